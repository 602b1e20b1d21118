
/*
 * ngx_qocr: the module's version, logged at start-up ("ngx_qocr/0.3.0",
 * info level).  The same as the Debian package's (debian/changelog):
 * "make deb" refuses to build when the two differ.
 */


#ifndef _NGX_QOCR_VERSION_H_INCLUDED_
#define _NGX_QOCR_VERSION_H_INCLUDED_


#define NGX_QOCR_VERSION  "0.3.0"


#endif /* _NGX_QOCR_VERSION_H_INCLUDED_ */

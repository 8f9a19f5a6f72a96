/* Internal: the one way lib/ fills a caller's "why" buffer. */
#ifndef MIRROR_LIB_WHY_H
#define MIRROR_LIB_WHY_H

#include <stddef.h>

/* Formats the reason into why (if given) and returns code. */
__attribute__((format(printf, 4, 5)))
int mirror_fail(int code, char *why, size_t why_len, const char *fmt, ...);

#endif

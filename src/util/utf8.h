/* UTF-8 as RFC 3629 defines it. */
#ifndef CAIRN_UTF8_H
#define CAIRN_UTF8_H

#include <stddef.h>

/* The length (2 to 4) of the multi-byte UTF-8 sequence at p, of which left bytes are
 * available, or 0 when it is not one: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF. */
static inline size_t utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF; /* the second byte's range */
	size_t n;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if (p[k] < 0x80 || p[k] > 0xBF)
			return 0;
	return n;
}

/* Cuts the UTF-8 text s to at most max bytes, at the start of a character. */
static inline void utf8_cut(char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	if (!s[n])
		return;
	while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
}

#endif

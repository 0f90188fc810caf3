/* A per-request arena: many small allocations freed together with arena_free(). */
#ifndef CAIRN_ARENA_H
#define CAIRN_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used; /* bytes used in head */
	size_t total; /* bytes handed out, for limits */
};

#define ARENA_INIT { NULL, 0, 0 }

/* 16-byte aligned memory that lives until arena_free; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* A NUL-terminated copy of n bytes of s. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);

#endif

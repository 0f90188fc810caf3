#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 4096

struct arena_block {
	struct arena_block *next;
	size_t size;
	max_align_t data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (!a->head || a->head->size - a->used < n) {
		size_t size = n > BLOCK_SIZE / 2 ? n : BLOCK_SIZE;
		if (size > SIZE_MAX - sizeof(struct arena_block))
			return NULL;
		struct arena_block *b = malloc(sizeof *b + size);
		if (!b)
			return NULL;
		b->size = size;
		if (a->head && size == n && a->head->size - a->used >= 16) {
			/* A big one-off: keep filling the current block afterwards. */
			b->next = a->head->next;
			a->head->next = b;
			a->total += n;
			return b->data;
		}
		b->next = a->head;
		a->head = b;
		a->used = 0;
	}
	void *p = (char *)a->head->data + a->used;
	a->used += n;
	a->total += n;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = a->total = 0;
}

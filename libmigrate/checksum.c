/* SPDX-License-Identifier: MIT */
/*
 * Revision checksums: a self-contained SHA-256 (FIPS 180-4) and the
 * normalisation that makes line endings and trailing white space not count
 * as a change of a revision.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

#include "private.h"

struct sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	unsigned char block[64];
	size_t used;  /* bytes waiting in block */
	bool generic; /* the portable code only (tests compare both) */
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t
ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static void
sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->total = 0;
	c->used = 0;
	c->generic = false;
}

static void
sha256_compress(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, cc, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^
			      (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^
			      (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0];
	b = h[1];
	cc = h[2];
	d = h[3];
	e = h[4];
	f = h[5];
	g = h[6];
	hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
		     ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
		     ((a & b) ^ (a & cc) ^ (b & cc));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = cc;
		cc = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += cc;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

#ifdef HAVE_SHA_NI
/*
 * @n blocks with the x86 SHA extensions (about ten times fewer
 * instructions than sha256_compress()), used when the CPU has them.
 * Message schedule for the 4 words of group i >= 4 (FIPS 180-4, 6.2.2):
 * msg1 gives W[t-16] + s0(W[t-15]), alignr adds W[t-7], msg2 s1(W[t-2]).
 */
__attribute__((target("sha,sse4.1"))) static void
sha256_blocks_shani(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i swap =
		_mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i st0, st1, tmp, save0, save1, msg, w[4];
	int i;

	tmp = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
	st1 = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
	tmp = _mm_shuffle_epi32(tmp, 0xB1);    /* CDAB */
	st1 = _mm_shuffle_epi32(st1, 0x1B);    /* EFGH */
	st0 = _mm_alignr_epi8(tmp, st1, 8);    /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0); /* CDGH */
	for (; n > 0; n--, p += 64) {
		save0 = st0;
		save1 = st1;
		for (i = 0; i < 16; i++) {
			if (i < 4) {
				w[i] = _mm_shuffle_epi8(
					_mm_loadu_si128(
						(const __m128i
							 *)(const void
								    *)(p +
								       16 * i)),
					swap);
			} else {
				tmp = _mm_sha256msg1_epu32(w[i & 3],
							   w[(i + 1) & 3]);
				tmp = _mm_add_epi32(
					tmp,
					_mm_alignr_epi8(w[(i + 3) & 3],
							w[(i + 2) & 3], 4));
				w[i & 3] = _mm_sha256msg2_epu32(tmp,
								w[(i + 3) & 3]);
			}
			msg = _mm_add_epi32(
				w[i & 3],
				_mm_loadu_si128(
					(const __m128i *)(const void *)&sha256_k
						[4 * i]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
			msg = _mm_shuffle_epi32(msg, 0x0E);
			st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
		}
		st0 = _mm_add_epi32(st0, save0);
		st1 = _mm_add_epi32(st1, save1);
	}
	tmp = _mm_shuffle_epi32(st0, 0x1B);    /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1);    /* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xF0); /* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);    /* HGFE */
	_mm_storeu_si128((__m128i *)(void *)&h[0], st0);
	_mm_storeu_si128((__m128i *)(void *)&h[4], st1);
}

/* The CPU has SHA and SSE4.1. CPUID is asked once (it can cost a trip to
 * the hypervisor); the cached answer is a constant of the machine, not
 * state: threads racing to store it store the same value. */
static bool
have_shani(void)
{
	static atomic_int known; /* 0: not asked, 1: no, 2: yes */
	unsigned int a, b, c, d;
	int k = atomic_load_explicit(&known, memory_order_relaxed);

	if (k == 0) {
		k = 1;
		if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) &&
		    __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)))
			k = 2;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k == 2;
}
#endif

/* @n 64-byte blocks of @p. */
static void
sha256_blocks(struct sha256 *c, const unsigned char *p, size_t n)
{
#ifdef HAVE_SHA_NI
	if (!c->generic && have_shani()) {
		sha256_blocks_shani(c->h, p, n);
		return;
	}
#endif
	for (; n > 0; n--, p += 64)
		sha256_compress(c->h, p);
}

static void
sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->total += len;
	if (c->used) {
		size_t n = 64 - c->used;

		if (n > len)
			n = len;
		memcpy(c->block + c->used, p, n);
		c->used += n;
		p += n;
		len -= n;
		if (c->used < 64)
			return;
		sha256_blocks(c, c->block, 1);
		c->used = 0;
	}
	if (len >= 64) {
		sha256_blocks(c, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	if (len) {
		memcpy(c->block, p, len);
		c->used = len;
	}
}

void
migrate__hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
sha256_final(struct sha256 *c, unsigned char out[32])
{
	uint64_t bits = c->total * 8;
	unsigned char pad[72];
	size_t npad;
	int i;

	/* 0x80, zeros up to 56 mod 64, then the length in bits (big endian) */
	npad = (c->used < 56 ? 56 : 120) - c->used;
	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[npad + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, pad, npad + 8);
	for (i = 0; i < 32; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

static void
sha256_final_hex(struct sha256 *c, char out[65])
{
	unsigned char sum[32];

	sha256_final(c, sum);
	migrate__hex(sum, sizeof(sum), out);
}

void
migrate__sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final_hex(&c, out);
}

void
migrate__sha256_hex_generic(const void *data, size_t len, char out[65])
{
	struct sha256 c;

	sha256_init(&c);
	c.generic = true;
	sha256_update(&c, data, len);
	sha256_final_hex(&c, out);
}

/*
 * Hash @len bytes of @s normalised: CR LF and lone CR become LF, spaces
 * and tabs at the end of every line go, blank lines before the first and
 * after the last non-blank line go, and every kept line ends with LF.
 * Streams into the hash without allocating, so it cannot fail.
 */
static void
hash_normalised(struct sha256 *c, const char *s, size_t len)
{
	size_t pending_blank = 0;
	bool started = false;
	const char *p = s, *stop = s + len;

	while (p < stop) {
		const char *line = p, *end, *cr;
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		const char *eol = nl ? nl : stop;

		cr = memchr(p, '\r', (size_t)(eol - p));
		if (cr) {
			end = cr;
			p = cr + 1;
			if (p < stop && *p == '\n')
				p++;
		} else {
			end = eol;
			p = nl ? nl + 1 : stop;
		}
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == line) {
			if (started)
				pending_blank++;
			continue;
		}
		for (; pending_blank; pending_blank--)
			sha256_update(c, "\n", 1);
		sha256_update(c, line, (size_t)(end - line));
		sha256_update(c, "\n", 1);
		started = true;
	}
}

bool
migrate__checksum_spans(const char *up,
			size_t up_len,
			const char *down,
			size_t down_len,
			unsigned char out[32])
{
	static const char marker[] = "\n-- migrate:downgrade\n";
	struct sha256 c;

	/* Revisions written in C have no text whose changes we could see. */
	if (!up && !down)
		return false;
	sha256_init(&c);
	if (up)
		hash_normalised(&c, up, up_len);
	if (down) {
		sha256_update(&c, marker, sizeof(marker) - 1);
		hash_normalised(&c, down, down_len);
	}
	sha256_final(&c, out);
	return true;
}

void
migrate__revision_checksum(struct migrate_revision *rev)
{
	const char *up = rev->up.sql, *down = rev->down.sql;

	rev->has_checksum =
		migrate__checksum_spans(up, up ? strlen(up) : 0, down,
					down ? strlen(down) : 0, rev->checksum);
}

void
migrate__revision_hex(const struct migrate_revision *r, char out[65])
{
	if (r->has_checksum)
		migrate__hex(r->checksum, sizeof(r->checksum), out);
	else
		out[0] = '\0';
}

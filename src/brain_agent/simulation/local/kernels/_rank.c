/*
 * Cross-sectional rank of rows, the simulator's hottest kernel (see cross_section.py).
 *
 * Plain C, no Python API: the module is loaded with ctypes (which releases the GIL, so the rows of
 * one matrix can be ranked on several threads). Built as an optional extension when the package is
 * installed; without a C compiler the numpy version in cross_section.py is used and gives the same
 * numbers.
 *
 * Per row: the non-NaN values get 32-bit order-preserving keys (the value rounded to single
 * precision, which never reverses an order), an LSD radix sort on those keys (three passes of
 * 11 bits, a pass skipped when every key has the same digit) orders them, values whose keys agree
 * are put in exact (double) order, and each run of equal values gets the average of its positions:
 * exactly bottleneck's nanrankdata, ranks 1-based, or scaled to (r - 1) / (n - 1) with a lone
 * value at 0.5.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef DIGIT_BITS
#define DIGIT_BITS 11
#endif
#define BUCKETS (1 << DIGIT_BITS)
#define PASSES ((32 + DIGIT_BITS - 1) / DIGIT_BITS)
#define SMALL_RUN 32

typedef struct {
    double value;
    int32_t column;
} Cell;

static uint32_t key_of(double v) {
    float f;
    uint32_t bits;
    if (v > FLT_MAX) {
        f = INFINITY;
    } else if (v < -FLT_MAX) {
        f = -INFINITY;
    } else {
        f = (float)v; /* round to nearest: a <= b gives (float)a <= (float)b */
    }
    memcpy(&bits, &f, sizeof bits);
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

static int by_value(const void *a, const void *b) {
    double x = ((const Cell *)a)->value, y = ((const Cell *)b)->value;
    return (x > y) - (x < y);
}

/* Orders cells [lo, hi) by their exact values (their keys are equal). */
static void exact_order(Cell *cells, int64_t lo, int64_t hi) {
    if (hi - lo > SMALL_RUN) {
        qsort(cells + lo, (size_t)(hi - lo), sizeof(Cell), by_value);
        return;
    }
    for (int64_t a = lo + 1; a < hi; a++) {
        Cell c = cells[a];
        int64_t q = a - 1;
        while (q >= lo && cells[q].value > c.value) {
            cells[q + 1] = cells[q];
            q--;
        }
        cells[q + 1] = c;
    }
}

/*
 * Ranks rows [lo, hi) of the row-major t x n matrix x into out (same shape).
 * Returns 0, or -1 when memory for the row buffers could not be had (out is then untouched).
 */
int rank_rows(const double *x, double *out, int64_t n, int64_t lo, int64_t hi, int scaled) {
    uint32_t *keys = malloc(sizeof(uint32_t) * 2 * (size_t)n);
    int32_t *columns = malloc(sizeof(int32_t) * 2 * (size_t)n);
    Cell *cells = malloc(sizeof(Cell) * (size_t)n);
    uint32_t *hist = malloc(sizeof(uint32_t) * PASSES * BUCKETS);
    if (!keys || !columns || !cells || !hist) {
        free(keys);
        free(columns);
        free(cells);
        free(hist);
        return -1;
    }
    for (int64_t r = lo; r < hi; r++) {
        const double *row = x + r * n;
        double *dst = out + r * n;
        uint32_t *src_k = keys, *tmp_k = keys + n;
        int32_t *src_c = columns, *tmp_c = columns + n;
        int64_t m = 0;
        memset(hist, 0, sizeof(uint32_t) * PASSES * BUCKETS);
        for (int64_t j = 0; j < n; j++) {
            double v = row[j];
            if (isnan(v)) {
                dst[j] = NAN;
                continue;
            }
            uint32_t k = key_of(v);
            src_k[m] = k;
            src_c[m] = (int32_t)j;
            m++;
            for (int p = 0; p < PASSES; p++) hist[p * BUCKETS + ((k >> (p * DIGIT_BITS)) & (BUCKETS - 1))]++;
        }
        if (m == 0) continue;
        for (int p = 0; p < PASSES; p++) { /* the keys move with their columns; values stay put */
            int shift = p * DIGIT_BITS;
            uint32_t *h = hist + p * BUCKETS;
            if (h[(src_k[0] >> shift) & (BUCKETS - 1)] == (uint32_t)m) continue; /* one digit: nothing moves */
            uint32_t sum = 0;
            for (int d = 0; d < BUCKETS; d++) {
                uint32_t c = h[d];
                h[d] = sum;
                sum += c;
            }
            for (int64_t i = 0; i < m; i++) {
                uint32_t k = src_k[i];
                uint32_t o = h[(k >> shift) & (BUCKETS - 1)]++;
                tmp_k[o] = k;
                tmp_c[o] = src_c[i];
            }
            uint32_t *sk = src_k;
            src_k = tmp_k;
            tmp_k = sk;
            int32_t *sc = src_c;
            src_c = tmp_c;
            tmp_c = sc;
        }
        for (int64_t i = 0; i < m; i++) {
            cells[i].column = src_c[i];
            cells[i].value = row[src_c[i]];
        }
        for (int64_t i = 0; i < m;) { /* equal keys: nearly equal values, put in exact order */
            int64_t j = i + 1;
            while (j < m && src_k[j] == src_k[i]) j++;
            if (j - i > 1) exact_order(cells, i, j);
            i = j;
        }
        double denom = (double)(m - 1);
        for (int64_t i = 0; i < m;) { /* equal values share the average of their positions */
            double v = cells[i].value;
            int64_t j = i + 1;
            while (j < m && cells[j].value == v) j++;
            double pos = (double)(i + j - 1) * 0.5;
            double rank = scaled ? (m > 1 ? pos / denom : 0.5) : pos + 1.0;
            for (int64_t a = i; a < j; a++) dst[cells[a].column] = rank;
            i = j;
        }
    }
    free(keys);
    free(columns);
    free(cells);
    free(hist);
    return 0;
}

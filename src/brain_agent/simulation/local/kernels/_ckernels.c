/*
 * The simulator's hottest loops in C: the cross-sectional rank of rows (cross_section.py), the book
 * pass (book.py: neutralize, unit gross, truncation, PnL and turnover sums per date), moving sums,
 * means, deviations and ranks and the linear decay (timeseries.py), fields pasteurized (_shared.py)
 * and one-pass arithmetic with its inf check (elementwise.py).
 *
 * Plain C, no Python API: the module is loaded with ctypes (which releases the GIL, so slices of
 * rows run on several threads at once). Built as an optional extension when the package is
 * installed; without a C compiler the numpy versions are used.
 *
 * rank_rows, per row: the values get 32-bit order-preserving keys (the value rounded to single
 * precision, which never reverses an order; NaN last), an LSD radix sort on those keys (three passes
 * of 11 bits, a pass skipped when every key has the same digit) orders them, values whose keys agree
 * are put in exact (double) order, and each run of equal values gets the average of its positions:
 * exactly bottleneck's nanrankdata, ranks 1-based, or scaled to (r - 1) / (n - 1) with a lone
 * value at 0.5. The same numbers as the numpy version, bit for bit.
 *
 * book_rows: see its comment. Its sums run left to right, numpy's pairwise: the same numbers to
 * about 1e-15 relative, not bit for bit.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIGIT_BITS 11 /* 8 measured the same; 16 twice as slow (65536 buckets for ~3000 values) */

/* The exported kernels are compiled for AVX-512, AVX2 and plain x86-64 (GCC picks one when the
 * library loads); their helpers are inlined into each version. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VERSIONS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VERSIONS
#endif
#define HELPER static inline __attribute__((always_inline))
#define BUCKETS (1 << DIGIT_BITS)
#define PASSES ((32 + DIGIT_BITS - 1) / DIGIT_BITS)
#define SMALL_RUN 32
#define RADIX_RUN 64 /* shorter runs sort faster by qsort than by a radix sort's 24 KB of counters */

typedef struct {
    double value;
    int32_t column;
} Cell;

/* A 32-bit key whose order is the values' order: the value rounded to single precision (which never
 * reverses an order; beyond the float range it is +-infinity, and -0.0 is 0.0 so that equal values
 * get equal keys), its bits flipped so that unsigned order is numeric order. NaN gets the largest
 * key, which no number has (+infinity's is smaller), so NaN sorts after every number. Written with
 * selects, not branches: a branch on the sign is mispredicted half the time on real data (this
 * loop took half the rank's time with one). */
#define NAN_KEY 0xFFFFFFFFu
HELPER uint32_t key_of(double v) {
    double c = v > FLT_MAX ? (double)INFINITY : (v < -FLT_MAX ? -(double)INFINITY : v);
    c = v == 0.0 ? 0.0 : c;
    float f = (float)c;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    uint32_t key = bits ^ ((uint32_t)((int32_t)bits >> 31) | 0x80000000u);
    return v != v ? NAN_KEY : key;
}

static int by_value(const void *a, const void *b) {
    double x = ((const Cell *)a)->value, y = ((const Cell *)b)->value;
    return (x > y) - (x < y);
}

/* Orders cells[0:len) by their exact values (their keys are equal). */
HELPER void exact_order(Cell *cells, int64_t len) {
    if (len > SMALL_RUN) {
        qsort(cells, (size_t)len, sizeof(Cell), by_value);
        return;
    }
    for (int64_t a = 1; a < len; a++) {
        Cell c = cells[a];
        int64_t q = a - 1;
        while (q >= 0 && cells[q].value > c.value) {
            cells[q + 1] = cells[q];
            q--;
        }
        cells[q + 1] = c;
    }
}

/* Sorts len items by their upper 32 bits (an LSD radix sort: three passes of 11 bits, a pass skipped
 * when every item shares its digit); src and tmp hold len items each; returns the sorted buffer. */
HELPER uint64_t *radix_by_key(uint64_t *src, uint64_t *tmp, int64_t len, uint32_t *hist) {
    memset(hist, 0, sizeof(uint32_t) * PASSES * BUCKETS);
    for (int64_t i = 0; i < len; i++)
        for (int p = 0; p < PASSES; p++) hist[p * BUCKETS + ((src[i] >> (32 + p * DIGIT_BITS)) & (BUCKETS - 1))]++;
    for (int p = 0; p < PASSES; p++) {
        int shift = 32 + p * DIGIT_BITS;
        uint32_t *h = hist + p * BUCKETS;
        if (h[(src[0] >> shift) & (BUCKETS - 1)] == (uint32_t)len) continue;
        uint32_t sum = 0;
        for (int d = 0; d < BUCKETS; d++) {
            uint32_t c = h[d];
            h[d] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < len; i++) {
            uint64_t item = src[i];
            tmp[h[(item >> shift) & (BUCKETS - 1)]++] = item;
        }
        uint64_t *swap = src;
        src = tmp;
        tmp = swap;
    }
    return src;
}

/* A run of len items (sorted positions first, first + len) whose keys are equal: equal values share
 * the average of their positions, in exact (double) order. A run over RADIX_RUN items (values that
 * single precision cannot tell apart: ratios that are all about 1, say) is sorted by a radix sort on
 * the doubles' own order keys, relative to the run's least: values that round to one float lie
 * within 2^29 of each other there, so 32 bits hold them exactly. Out of line: runs are rare, and
 * inlined this code slowed the loop over single items by a tenth. scratch: 2 n items; hist: the
 * passes' counters. */
static __attribute__((noinline)) void settle_run(const double *row, const uint64_t *items, int64_t len,
                                                 int64_t first, int scaled, double denom, Cell *cells,
                                                 double *dst, uint64_t *scratch, uint32_t *hist) {
    int all_equal = 1;
    for (int64_t a = 0; a < len; a++) {
        int32_t c = (int32_t)(items[a] & 0xFFFFFFFFu);
        cells[a].column = c;
        cells[a].value = row[c];
        all_equal &= cells[a].value == cells[0].value;
    }
    if (all_equal) { /* one value (discrete data): nothing to sort */
        double pos = (double)(2 * first + len - 1) * 0.5;
        double rank = scaled ? pos / denom : pos + 1.0;
        for (int64_t a = 0; a < len; a++) dst[cells[a].column] = rank;
        return;
    }
    if (len > RADIX_RUN) {
        uint64_t *wide = scratch, lowest = UINT64_MAX, highest = 0;
        for (int64_t a = 0; a < len; a++) {
            double v = cells[a].value + 0.0; /* -0.0 as 0.0 */
            uint64_t b;
            memcpy(&b, &v, sizeof b);
            wide[a] = b ^ ((uint64_t)((int64_t)b >> 63) | 0x8000000000000000u);
            lowest = wide[a] < lowest ? wide[a] : lowest;
            highest = wide[a] > highest ? wide[a] : highest;
        }
        if (highest - lowest <= UINT32_MAX) {
            for (int64_t a = 0; a < len; a++) wide[a] = ((wide[a] - lowest) << 32) | (uint64_t)a;
            uint64_t *order = radix_by_key(wide, scratch + len, len, hist);
            for (int64_t p = 0; p < len;) { /* equal keys: equal values, which share their average */
                uint64_t key = order[p] >> 32;
                int64_t q = p + 1;
                while (q < len && (order[q] >> 32) == key) q++;
                double pos = (double)(2 * first + p + q - 1) * 0.5;
                double rank = scaled ? pos / denom : pos + 1.0;
                for (int64_t e = p; e < q; e++) dst[cells[order[e] & 0xFFFFFFFFu].column] = rank;
                p = q;
            }
            return;
        }
    }
    exact_order(cells, len);
    for (int64_t a = 0; a < len;) {
        double v = cells[a].value;
        int64_t b = a + 1;
        while (b < len && cells[b].value == v) b++;
        double pos = (double)(2 * first + a + b - 1) * 0.5;
        double rank = scaled ? pos / denom : pos + 1.0;
        for (int64_t q = a; q < b; q++) dst[cells[q].column] = rank;
        a = b;
    }
}

/*
 * Ranks rows [lo, hi) of the row-major t x n matrix x into out (same shape).
 * Returns 0, or -1 when memory for the row buffers could not be had (out is then untouched).
 */
VERSIONS int rank_rows(const double *x, double *out, int64_t n, int64_t lo, int64_t hi, int scaled) {
    /* an item is (key << 32) | column: one 8-byte move per item and pass */
    uint64_t *items = malloc(sizeof(uint64_t) * 2 * (size_t)n);
    Cell *cells = malloc(sizeof(Cell) * (size_t)n);
    uint32_t *hist = malloc(sizeof(uint32_t) * PASSES * BUCKETS);
    uint32_t *keys = malloc(sizeof(uint32_t) * (size_t)n);
    double *at = malloc(sizeof(double) * (size_t)n); /* the rank of sorted position i */
    uint64_t *runs = malloc(sizeof(uint64_t) * 2 * (size_t)n); /* settle_run's */
    if (!items || !cells || !hist || !keys || !at || !runs) {
        free(runs);
        free(items);
        free(cells);
        free(hist);
        free(keys);
        free(at);
        return -1;
    }
    for (int64_t r = lo; r < hi; r++) {
        const double *row = x + r * n;
        double *dst = out + r * n;
        uint64_t *src = items, *tmp = items + n;
        /* NaN sorts along (after every number), so these loops have no branches */
        for (int64_t j = 0; j < n; j++) keys[j] = key_of(row[j]);
        for (int64_t j = 0; j < n; j++) src[j] = ((uint64_t)keys[j] << 32) | (uint64_t)j;
        memset(hist, 0, sizeof(uint32_t) * PASSES * BUCKETS);
        for (int64_t j = 0; j < n; j++)
            for (int p = 0; p < PASSES; p++) hist[p * BUCKETS + ((keys[j] >> (p * DIGIT_BITS)) & (BUCKETS - 1))]++;
        /* the non-NaN count: NaN's top digit is shared by no number (those keys are NaN patterns) */
        int64_t m = n - (int64_t)hist[(PASSES - 1) * BUCKETS + (NAN_KEY >> ((PASSES - 1) * DIGIT_BITS))];
        if (m == 0) {
            for (int64_t j = 0; j < n; j++) dst[j] = NAN;
            continue;
        }
        for (int p = 0; p < PASSES; p++) {
            int shift = 32 + p * DIGIT_BITS;
            uint32_t *h = hist + p * BUCKETS;
            if (h[(src[0] >> shift) & (BUCKETS - 1)] == (uint32_t)n) continue; /* one digit: nothing moves */
            uint32_t sum = 0;
            for (int d = 0; d < BUCKETS; d++) {
                uint32_t c = h[d];
                h[d] = sum;
                sum += c;
            }
            for (int64_t i = 0; i < n; i++) {
                uint64_t item = src[i];
                tmp[h[(item >> shift) & (BUCKETS - 1)]++] = item;
            }
            uint64_t *swap = src;
            src = tmp;
            tmp = swap;
        }
        for (int64_t i = m; i < n; i++) dst[(int32_t)(src[i] & 0xFFFFFFFFu)] = NAN;
        double denom = (double)(m - 1);
        if (!scaled) {
            for (int64_t i = 0; i < m; i++) at[i] = (double)i + 1.0;
        } else if (m > 1) {
            for (int64_t i = 0; i < m; i++) at[i] = (double)i / denom;
        } else {
            at[0] = 0.5;
        }
        /* Runs of equal keys: mostly one value, ranked at once; a longer run (equal or nearly equal
         * values: equal values always share a key) is put in exact order, its ties averaged. */
        for (int64_t i = 0; i < m;) {
            uint64_t key = src[i] >> 32;
            int64_t j = i + 1;
            while (j < m && (src[j] >> 32) == key) j++;
            if (j - i == 1) {
                dst[(int32_t)(src[i] & 0xFFFFFFFFu)] = at[i];
                i = j;
                continue;
            }
            settle_run(row, src + i, j - i, i, scaled, denom, cells, dst, runs, hist);
            i = j;
        }
    }
    free(items);
    free(cells);
    free(hist);
    free(keys);
    free(at);
    free(runs);
    return 0;
}

/* ---- the book ------------------------------------------------------------------------------- */

enum { NEUTRAL_NONE = 0, NEUTRAL_MARKET = 1, NEUTRAL_GROUP = 2 };

/* Sums and maxima below keep LANES independent partial results (combined pairwise at the end), as
 * numpy's pairwise sums do: a single running sum waits on its own latency at every element, and
 * LANES of them vectorize. */
#define LANES 8

HELPER double combine(const double *acc) {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

HELPER double sum_abs(const double *w, int64_t n) {
    double acc[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++) acc[k] += fabs(w[j + k]);
    double s = combine(acc);
    for (; j < n; j++) s += fabs(w[j]);
    return s;
}

HELPER double largest(const double *w, int64_t n) {
    double acc[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++) {
            double a = fabs(w[j + k]);
            acc[k] = a > acc[k] ? a : acc[k];
        }
    double top = 0.0;
    for (int k = 0; k < LANES; k++) top = acc[k] > top ? acc[k] : top;
    for (; j < n; j++) top = fabs(w[j]) > top ? fabs(w[j]) : top;
    return top;
}

/* w scaled so that sum |w| is 1 (all 0 when there is nothing to scale). */
HELPER void unit_gross(double *w, int64_t n) {
    double gross = sum_abs(w, n);
    if (!(gross > 0.0)) {
        memset(w, 0, sizeof(double) * (size_t)n);
        return;
    }
    for (int64_t j = 0; j < n; j++) w[j] /= gross;
}

/* The weights of row r: alpha restricted to universe and within (NULL: all), neutralized, NaN
 * to 0, unit gross, each capped at truncation (0 < truncation < 1; rescaled, at most 20 rounds). */
HELPER void row_weights(const double *alpha, const uint8_t *universe, const uint8_t *within, int mode,
                        const int32_t *codes, int64_t codes_stride, int64_t n_groups, double truncation,
                        int64_t n, int64_t r, double *w, double *sums, double *counts) {
    const double *a = alpha + r * n;
    const uint8_t *u = universe ? universe + r * n : NULL, *in = within ? within + r * n : NULL;
    for (int64_t j = 0; j < n; j++) {
        int keep = (!u || u[j]) && (!in || in[j]);
        w[j] = keep ? a[j] : NAN;
    }
    double mean = 0.0;
    if (mode == NEUTRAL_MARKET) {
        double total[LANES] = {0}, count[LANES] = {0};
        int64_t j = 0;
        for (; j + LANES <= n; j += LANES)
            for (int k = 0; k < LANES; k++) { /* so written, GCC vectorizes it: a MARKET book 11.1 → 8.8 ms */
                double v = w[j + k];
                int ok = v == v;
                total[k] += ok ? v : 0.0;
                count[k] += ok ? 1.0 : 0.0;
            }
        double t = combine(total), c = combine(count);
        for (; j < n; j++) {
            if (!isnan(w[j])) {
                t += w[j];
                c += 1.0;
            }
        }
        mean = t / c;
    } else if (mode == NEUTRAL_GROUP) {
        const int32_t *c = codes + r * codes_stride;
        memset(sums, 0, sizeof(double) * (size_t)n_groups);
        memset(counts, 0, sizeof(double) * (size_t)n_groups);
        for (int64_t j = 0; j < n; j++) {
            if (c[j] >= 0 && !isnan(w[j])) {
                sums[c[j]] += w[j];
                counts[c[j]] += 1.0;
            }
        }
        for (int64_t g = 0; g < n_groups; g++) sums[g] /= counts[g];
        for (int64_t j = 0; j < n; j++) w[j] = c[j] < 0 ? NAN : w[j] - sums[c[j]];
    }
    for (int64_t j = 0; j < n; j++) { /* MARKET's mean comes off here; NaN (nothing held) becomes 0 */
        double v = w[j] - mean;
        w[j] = isnan(v) ? 0.0 : v;
    }
    unit_gross(w, n);
    if (truncation > 0.0 && truncation < 1.0) {
        double limit = truncation * (1 + 1e-9);
        for (int round = 0; round < 20 && largest(w, n) > limit; round++) {
            for (int64_t j = 0; j < n; j++) {
                double v = w[j];
                w[j] = v > truncation ? truncation : (v < -truncation ? -truncation : v);
            }
            unit_gross(w, n);
        }
    }
}

/*
 * One book over rows [lo, hi) of a row-major t x n alpha, as book.py's numpy pass computes it:
 * weights per date (row_weights), then per date t the sums
 *   pnl[t] = sum w[t-1] * returns[t]   gross[t] = sum |w[t]|
 * and unless pnl_only: traded[t] = sum |w[t] - w[t-1]|, longs / shorts (count of w > 0 / < 0),
 * top[t] = max |w[t]|. A slice that does not start at row 0 first computes the weights of the row
 * before it. returns: ret32 or ret64 (the other NULL), NaN-free. codes: n_groups codes per cell,
 * -1 for none, codes_stride 0 when every date has the same. Returns 0, or -1 without memory.
 */
VERSIONS int book_rows(const double *alpha, const uint8_t *universe, const uint8_t *within, int mode,
              const int32_t *codes, int64_t codes_stride, int64_t n_groups, double truncation,
              const float *ret32, const double *ret64, int64_t n, int64_t lo, int64_t hi, int pnl_only,
              double *pnl, double *gross, double *traded, double *longs, double *shorts, double *top) {
    double *w = malloc(sizeof(double) * 2 * (size_t)n);
    double *sums = malloc(sizeof(double) * 2 * (size_t)(n_groups > 0 ? n_groups : 1));
    if (!w || !sums) {
        free(w);
        free(sums);
        return -1;
    }
    double *cur = w, *prev = w + n, *counts = sums + (n_groups > 0 ? n_groups : 1);
    if (lo > 0) {
        row_weights(alpha, universe, within, mode, codes, codes_stride, n_groups, truncation, n, lo - 1, prev,
                    sums, counts);
    } else {
        memset(prev, 0, sizeof(double) * (size_t)n);
    }
    for (int64_t r = lo; r < hi; r++) {
        row_weights(alpha, universe, within, mode, codes, codes_stride, n_groups, truncation, n, r, cur, sums,
                    counts);
        double p[LANES] = {0}, g[LANES] = {0};
        double moved[LANES] = {0}, big[LANES] = {0}, up[LANES] = {0}, down[LANES] = {0};
        const float *r32 = ret32 ? ret32 + r * n : NULL;
        const double *r64 = ret64 ? ret64 + r * n : NULL;
        int64_t j = 0;
        for (; j + LANES <= n; j += LANES)
            for (int k = 0; k < LANES; k++) {
                double v = cur[j + k], before = prev[j + k], a = fabs(v);
                p[k] += before * (r32 ? (double)r32[j + k] : r64[j + k]);
                g[k] += a;
                moved[k] += fabs(v - before);
                big[k] = a > big[k] ? a : big[k];
                up[k] += v > 0.0;
                down[k] += v < 0.0;
            }
        double pn = combine(p), gr = combine(g), mv = combine(moved);
        double ups = combine(up), downs = combine(down);
        double top_ = 0.0;
        for (int k = 0; k < LANES; k++) top_ = big[k] > top_ ? big[k] : top_;
        for (; j < n; j++) {
            double v = cur[j], before = prev[j], a = fabs(v);
            pn += before * (r32 ? (double)r32[j] : r64[j]);
            gr += a;
            mv += fabs(v - before);
            top_ = a > top_ ? a : top_;
            ups += v > 0.0;
            downs += v < 0.0;
        }
        pnl[r] = pn;
        gross[r] = gr;
        if (!pnl_only) {
            traded[r] = mv;
            top[r] = top_;
            longs[r] = ups;
            shorts[r] = downs;
        }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    free(w);
    free(sums);
    return 0;
}

/* ---- moving windows ------------------------------------------------------------------------- */

/*
 * move_rows: ts_sum, ts_mean and ts_std_dev (population) down the dates of columns [lo, hi) of the
 * row-major t x n matrix x, into out. bottleneck's move_sum / move_mean / move_std walk one column
 * at a time down a strided array; here all the columns are updated together date by date (their
 * state side by side, so the updates vectorize; measured faster than blocks of 256 or 1024 columns)
 * and x and out stay row-major (no copies).
 *
 * Each column runs the usual recurrences in the same order of operations as bottleneck 1.6, so the
 * numbers are the same bit for bit: a running sum (the new value added, the one leaving subtracted)
 * and the windowed Welford update for the variance. A value counts when it is not NaN; a date's
 * result is NaN unless at least min_count values of its window count. While the window fills the
 * mean divides by the count; once full it multiplies by the count's reciprocal (as bottleneck does).
 * Each lane takes its case with selects rather than branches; NaN in an unused case is discarded.
 */
enum { MOVE_SUM = 0, MOVE_MEAN = 1, MOVE_STD = 2, MOVE_RANK = 3 };

/* Dates before the window is full: values only come in. */
HELPER void fill_row(int kind, const double *in, double *y, double *s, double *mean, double *m2,
                     double *count, int64_t w, double min_count) {
    for (int64_t j = 0; j < w; j++) {
        double a = in[j];
        int ok = a == a;
        double c = ok ? count[j] + 1.0 : count[j];
        count[j] = c;
        int shown = c >= min_count;
        if (kind == MOVE_STD) {
            double d = a - mean[j];
            double mu = mean[j] + d / c;
            double q = m2[j] + d * (a - mu);
            mean[j] = ok ? mu : mean[j];
            q = ok ? q : m2[j];
            q = shown && q < 0.0 ? 0.0 : q;
            m2[j] = q;
            y[j] = shown ? sqrt(q / c) : NAN;
        } else {
            double t = ok ? s[j] + a : s[j];
            s[j] = t;
            y[j] = shown ? (kind == MOVE_MEAN ? t / c : t) : NAN;
        }
    }
}

/* Dates once the window is full: old leaves as a comes in. */
HELPER void slide_row(int kind, const double *in, const double *out_of, double *y, double *s, double *mean,
                      double *m2, double *count, int64_t w, double min_count) {
    for (int64_t j = 0; j < w; j++) {
        double a = in[j], o = out_of[j];
        int ok_in = a == a, ok_out = o == o;
        double c = count[j] + (double)ok_in - (double)ok_out;
        count[j] = c;
        double inv = 1.0 / c;
        int shown = c >= min_count;
        if (kind == MOVE_STD) {
            double mu = mean[j], q = m2[j];
            /* both: a replaces o */
            double d_both = a - o;
            double mu_both = mu + d_both * inv;
            double q_both = q + ((a - mu_both) + (o - mu)) * d_both;
            /* a only: one more value */
            double d_in = a - mu;
            double mu_in = mu + d_in * inv;
            double q_in = q + d_in * (a - mu_in);
            /* o only: one fewer (none left: start again) */
            double d_out = o - mu;
            double mu_out = mu - d_out * inv;
            double q_out = q - d_out * (o - mu_out);
            mu_out = c > 0.0 ? mu_out : 0.0;
            q_out = c > 0.0 ? q_out : 0.0;
            double mu_new = ok_in ? (ok_out ? mu_both : mu_in) : (ok_out ? mu_out : mu);
            double q_new = ok_in ? (ok_out ? q_both : q_in) : (ok_out ? q_out : q);
            q_new = shown && q_new < 0.0 ? 0.0 : q_new;
            mean[j] = mu_new;
            m2[j] = q_new;
            y[j] = shown ? sqrt(q_new * inv) : NAN;
        } else {
            double step = ok_in ? (ok_out ? a - o : a) : -o;
            double t = ok_in || ok_out ? s[j] + step : s[j];
            s[j] = t;
            y[j] = shown ? (kind == MOVE_MEAN ? t * inv : t) : NAN;
        }
    }
}

/* Columns [lo, hi) down all the dates, row by row (kind is a constant in each inlined copy). */
HELPER void walk(int kind, const double *x, double *out, double *state, int64_t t, int64_t n, int64_t window,
                 double min_count, int64_t lo, int64_t hi) {
    int64_t w = hi - lo;
    double *s = state, *mean = state + w, *m2 = state + 2 * w, *count = state + 3 * w;
    for (int64_t r = 0; r < t; r++) {
        const double *in = x + r * n + lo;
        double *y = out + r * n + lo;
        if (r < window)
            fill_row(kind, in, y, s, mean, m2, count, w, min_count);
        else
            slide_row(kind, in, x + (r - window) * n + lo, y, s, mean, m2, count, w, min_count);
    }
}

/*
 * ts_rank's moving rank (bottleneck 1.6's move_rank, bit for bit): for each date, today's value
 * against the window's earlier non-NaN values, counted as bottleneck counts them (g: 2 per smaller
 * value, e: 1 per equal one, itself included, n: the values) and scaled as it scales them:
 * r = 0.5 (g + e - 1) / (n - 1), then 2 (r - 0.5), in [-1, 1]; 0 when today's is the only value; NaN
 * for a NaN today, fewer than min_count values, or the first min_count - 1 dates. The window is the
 * dates before today within window - 1 (from the first date while it fills). bottleneck walks one
 * column at a time with a branch per comparison; here blocks of columns are compared side by side
 * (selects, so the loops vectorize), the window's rows staying in cache.
 */
#define RANK_BLOCK 256
HELPER void rank_window(const double *x, double *out, double *state, int64_t t, int64_t n, int64_t window,
                        int64_t min_count, int64_t lo, int64_t hi) {
    double *g = state, *e = state + RANK_BLOCK, *cnt = state + 2 * RANK_BLOCK;
    for (int64_t c0 = lo; c0 < hi; c0 += RANK_BLOCK) {
        int64_t w = hi - c0 < RANK_BLOCK ? hi - c0 : RANK_BLOCK;
        for (int64_t r = 0; r < t; r++) {
            double *y = out + r * n + c0;
            if (r < min_count - 1) {
                for (int64_t c = 0; c < w; c++) y[c] = NAN;
                continue;
            }
            const double *a = x + r * n + c0;
            for (int64_t c = 0; c < w; c++) {
                g[c] = 0.0;
                e[c] = 1.0;
                cnt[c] = 1.0;
            }
            for (int64_t k = r < window ? 0 : r - window + 1; k < r; k++) {
                const double *b = x + k * n + c0;
                for (int64_t c = 0; c < w; c++) {
                    double ai = a[c], aj = b[c];
                    cnt[c] += aj == aj ? 1.0 : 0.0;
                    g[c] += ai > aj ? 2.0 : 0.0;
                    e[c] += ai == aj ? 1.0 : 0.0;
                }
            }
            for (int64_t c = 0; c < w; c++) {
                double ai = a[c], m = cnt[c];
                double rank = 0.5 * (g[c] + e[c] - 1.0);
                rank = rank / (m - 1.0);
                rank = 2.0 * (rank - 0.5);
                rank = m == 1.0 ? 0.0 : rank;
                rank = m < (double)min_count ? NAN : rank;
                y[c] = ai == ai ? rank : NAN;
            }
        }
    }
}

/* Returns 0, or -1 when memory for the column state could not be had (out is then untouched). */
VERSIONS int move_rows(int kind, const double *x, double *out, int64_t t, int64_t n, int64_t window,
                       int64_t min_count, int64_t lo, int64_t hi) {
    if (hi <= lo) return 0;
    if (kind == MOVE_RANK) {
        double *scratch = malloc(3 * RANK_BLOCK * sizeof(double));
        if (!scratch) return -1;
        rank_window(x, out, scratch, t, n, window, min_count, lo, hi);
        free(scratch);
        return 0;
    }
    double *state = calloc(4 * (size_t)(hi - lo), sizeof(double));
    if (!state) return -1;
    if (kind == MOVE_STD)
        walk(MOVE_STD, x, out, state, t, n, window, (double)min_count, lo, hi);
    else if (kind == MOVE_MEAN)
        walk(MOVE_MEAN, x, out, state, t, n, window, (double)min_count, lo, hi);
    else
        walk(MOVE_SUM, x, out, state, t, n, window, (double)min_count, lo, hi);
    free(state);
    return 0;
}

/* ---- linear decay --------------------------------------------------------------------------- */

/*
 * decay_rows: ts_decay_linear (and the book's decay) over columns [lo, hi) of the row-major t x n
 * matrix x, into out: sum w x / sum w over the window's non-NaN values, the newest weight d. The same
 * operations in the same order as timeseries.py's numpy version, so the same numbers bit for bit:
 * with x0 = x or 0 for NaN, m = 1 or 0, i = row + 1 and base = i - d, four running sums down the rows
 * (of i x0, x0, i m, m), each windowed as c[r] - c[r - d] (c[r] itself for r < d), then
 * num = W(i x0) - base W(x0), den = W(i m) - base W(m), out = num / den, NaN where den <= 0.5 and on
 * the first min_rows - 1 rows. Blocks of columns side by side; the last d + 1 rows of the running
 * sums kept in a ring.
 */
#define DECAY_BLOCK 256

VERSIONS int decay_rows(const double *x, double *out, int64_t t, int64_t n, int64_t d, int64_t min_rows,
                        int64_t lo, int64_t hi) {
    if (hi <= lo || t <= 0) return 0;
    int64_t ring = (d < t ? d : t) + 1; /* a window longer than the dates never drops a row */
    double *sums = malloc(sizeof(double) * 4 * DECAY_BLOCK * (size_t)ring);
    if (!sums) return -1;
    for (int64_t c0 = lo; c0 < hi; c0 += DECAY_BLOCK) {
        int64_t w = hi - c0 < DECAY_BLOCK ? hi - c0 : DECAY_BLOCK;
        for (int64_t r = 0; r < t; r++) {
            const double *a = x + r * n + c0;
            double *y = out + r * n + c0;
            double i = (double)(r + 1), base = i - (double)d;
            double *now = sums + 4 * DECAY_BLOCK * (r % ring);
            const double *before = r > 0 ? sums + 4 * DECAY_BLOCK * ((r - 1) % ring) : NULL;
            const double *gone = r >= d ? sums + 4 * DECAY_BLOCK * ((r - d) % ring) : NULL;
            double *s_ix = now, *s_x = now + DECAY_BLOCK, *s_im = now + 2 * DECAY_BLOCK, *s_m = now + 3 * DECAY_BLOCK;
            for (int64_t c = 0; c < w; c++) {
                double v = a[c];
                int ok = v == v;
                double x0 = ok ? v : 0.0, m = ok ? 1.0 : 0.0;
                double ix = i * x0, im = i * m;
                s_ix[c] = before ? before[c] + ix : ix;
                s_x[c] = before ? before[DECAY_BLOCK + c] + x0 : x0;
                s_im[c] = before ? before[2 * DECAY_BLOCK + c] + im : im;
                s_m[c] = before ? before[3 * DECAY_BLOCK + c] + m : m;
            }
            for (int64_t c = 0; c < w; c++) {
                double w_ix = gone ? s_ix[c] - gone[c] : s_ix[c];
                double w_x = gone ? s_x[c] - gone[DECAY_BLOCK + c] : s_x[c];
                double w_im = gone ? s_im[c] - gone[2 * DECAY_BLOCK + c] : s_im[c];
                double w_m = gone ? s_m[c] - gone[3 * DECAY_BLOCK + c] : s_m[c];
                double num = w_ix - base * w_x;
                double den = w_im - base * w_m;
                double v = num / den;
                y[c] = den <= 0.5 || r < min_rows - 1 ? NAN : v;
            }
        }
    }
    free(sums);
    return 0;
}

/* ---- fields --------------------------------------------------------------------------------- */

/*
 * mask_rows: rows [lo, hi) of a field (row-major t x n, single or double precision) into double
 * precision, NaN where mask is 0 (outside the universe: pasteurization). One pass instead of numpy's
 * where(), which casts and selects through temporaries.
 */
VERSIONS void mask_rows(const float *f32, const double *f64, const uint8_t *mask, double *out, int64_t n,
                        int64_t lo, int64_t hi) {
    int64_t a = lo * n, b = hi * n;
    if (f32) {
        for (int64_t i = a; i < b; i++) out[i] = mask[i] ? (double)f32[i] : NAN;
    } else {
        for (int64_t i = a; i < b; i++) out[i] = mask[i] ? f64[i] : NAN;
    }
}

/* ---- elementwise ---------------------------------------------------------------------------- */

/*
 * arith_cells: cells [lo, hi) of add, subtract, multiply, divide (a op b) or negate (-a), with +-inf
 * made NaN in the same pass (the rule every elementwise operator follows). a or b NULL: that operand
 * is the number a0 or b0. The same IEEE operations as numpy's ufuncs followed by the inf check, so
 * the same numbers bit for bit, in one pass instead of three (the operation, isinf, the fix); only
 * which NaN comes out of two NaN operands may differ (the compiler may swap a + b to b + a).
 */
enum { ARITH_ADD = 0, ARITH_SUBTRACT = 1, ARITH_MULTIPLY = 2, ARITH_DIVIDE = 3, ARITH_NEGATE = 4 };

HELPER double arith(int op, double x, double y) {
    switch (op) {
    case ARITH_ADD: return x + y;
    case ARITH_SUBTRACT: return x - y;
    case ARITH_MULTIPLY: return x * y;
    case ARITH_DIVIDE: return x / y;
    default: return -x;
    }
}

/* op is a constant in each inlined copy, so each loop is one vectorized operation */
HELPER void arith_loop(int op, const double *a, double a0, const double *b, double b0, double *out, int64_t lo,
                       int64_t hi) {
    if (a && b) {
        for (int64_t i = lo; i < hi; i++) {
            double v = arith(op, a[i], b[i]);
            out[i] = isinf(v) ? NAN : v;
        }
    } else if (a) {
        for (int64_t i = lo; i < hi; i++) {
            double v = arith(op, a[i], b0);
            out[i] = isinf(v) ? NAN : v;
        }
    } else if (b) {
        for (int64_t i = lo; i < hi; i++) {
            double v = arith(op, a0, b[i]);
            out[i] = isinf(v) ? NAN : v;
        }
    }
}

VERSIONS void arith_cells(int op, const double *a, double a0, const double *b, double b0, double *out, int64_t lo,
                          int64_t hi) {
    switch (op) {
    case ARITH_ADD: arith_loop(ARITH_ADD, a, a0, b, b0, out, lo, hi); break;
    case ARITH_SUBTRACT: arith_loop(ARITH_SUBTRACT, a, a0, b, b0, out, lo, hi); break;
    case ARITH_MULTIPLY: arith_loop(ARITH_MULTIPLY, a, a0, b, b0, out, lo, hi); break;
    case ARITH_DIVIDE: arith_loop(ARITH_DIVIDE, a, a0, b, b0, out, lo, hi); break;
    default: arith_loop(ARITH_NEGATE, a, a0, NULL, 0.0, out, lo, hi); break;
    }
}

/* Cells [lo, hi) of x: +-inf made NaN in place (a store only where one is found). */
VERSIONS void inf_to_nan(double *x, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++)
        if (isinf(x[i])) x[i] = NAN;
}

/* The largest |x| over cells [lo, hi), NaN ignored (0 when there is none; +inf when there is one). */
VERSIONS double largest_abs(const double *x, int64_t lo, int64_t hi) {
    return hi > lo ? largest(x + lo, hi - lo) : 0.0;
}

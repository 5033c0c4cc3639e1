/*
 * One pass over canonical CSV bytes into column buffers (see fastcsv.py, which loads this through
 * ctypes and wraps the buffers as Arrow arrays).
 *
 * The parser decides only what it is sure of. A time or number it cannot read exactly as Polars
 * would (another layout, an offset other than UTC, a digit string too long for the exact path) is
 * left null and listed as a "hard" cell for Python to resolve with the Polars code; any layout
 * whose Polars reading is in doubt (a quote inside an unquoted field, text after a closing quote,
 * a lone carriage return, invalid UTF-8) stops the parse with a status code and the Polars reader
 * reads the whole file instead.
 *
 * Strings are Arrow string views: up to 12 bytes inline, longer ones copied into the string buffer
 * (so the frame does not keep the whole input alive), which also takes the unescaped content of
 * quoted fields that held doubled quotes.
 */

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 128-bit products available: numbers are scaled by Eisel-Lemire, else by exact division */
#if defined(__SIZEOF_INT128__) && !defined(PARLEY_NO_INT128)
#define EISEL_LEMIRE 1
#else
#define EISEL_LEMIRE 0
#endif

/* the per-field steps, inlined into the loop over the bytes (a call per field costs more) */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

enum kind { KIND_SKIP = 0, KIND_TIME = 1, KIND_FLOAT = 2, KIND_STRING = 3 };

enum status {
    STATUS_OK = 0,
    STATUS_QUOTE_IN_FIELD = 1,
    STATUS_TEXT_AFTER_QUOTE = 2,
    STATUS_LONE_CR = 3,
    STATUS_UNCLOSED_QUOTE = 4,
    STATUS_BAD_UTF8 = 5,
    STATUS_TOO_MANY_HARD = 6,
    STATUS_CAPACITY = 7,
    STATUS_SCRATCH = 8,
};

/* Flags of a hard cell. */
#define HARD_IN_SCRATCH 1

typedef struct {
    int64_t rows;
    int64_t hard;
    int64_t status;
    int64_t status_offset;
    /* numeric cells with whitespace after the number (Polars' typed CSV read refuses those) */
    int64_t trailing_space;
    int64_t scratch_used;
} parse_result;

typedef struct {
    uint32_t length;
    uint8_t prefix[4];
    int32_t buffer;
    int32_t offset;
} string_view;

static inline int is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline void set_valid(uint8_t *bits, int64_t row) {
    bits[row >> 3] |= (uint8_t)(1u << (row & 7));
}

/* Powers of ten as 64-bit integers (up to 10^19). */
static const uint64_t POW10_INTEGER[20] = {1ull,
                                           10ull,
                                           100ull,
                                           1000ull,
                                           10000ull,
                                           100000ull,
                                           1000000ull,
                                           10000000ull,
                                           100000000ull,
                                           1000000000ull,
                                           10000000000ull,
                                           100000000000ull,
                                           1000000000000ull,
                                           10000000000000ull,
                                           100000000000000ull,
                                           1000000000000000ull,
                                           10000000000000000ull,
                                           100000000000000000ull,
                                           1000000000000000000ull,
                                           10000000000000000000ull};


#if !EISEL_LEMIRE
/* Powers of ten exact as doubles (up to 10^22) and as x87 extended (up to 10^27). */
static const double POW10_DOUBLE[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const long double POW10[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
#endif

/* Eight ASCII digits in a little-endian word, and their value (the usual SWAR steps). */
static inline int is_eight_digits(uint64_t word) {
    return !(((word + 0x4646464646464646ull) | (word - 0x3030303030303030ull)) &
             0x8080808080808080ull);
}

static inline uint32_t eight_digits(uint64_t word) {
    word -= 0x3030303030303030ull;
    word = word * 10 + (word >> 8); /* pairs of digits in alternate bytes */
    word = (((word & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
            (((word >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
           32;
    return (uint32_t)word;
}

/*
 * A decimal number (sign, digits, point, exponent; no spaces) to the nearest double.
 * mantissa * 10^k is one correctly rounded extended-precision operation when the mantissa has at
 * most 19 digits and |k| <= 27 (both operands exact); rounding that to double is then correct
 * unless it lands exactly halfway between two doubles, which goes to strtod. Returns 0 when the
 * text is not such a number (the caller lists the cell as hard).
 */
static inline int scale(uint64_t mantissa, int exponent, int negative, const uint8_t *s, int64_t n,
                        double *out);

static int parse_number_slow(const uint8_t *s, int64_t n, double *out) {
    int64_t i = 0;
    int negative = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        negative = s[i] == '-';
        i++;
    }
    uint64_t mantissa = 0;
    int digits = 0, any_digit = 0, exponent = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        any_digit = 1;
        if (mantissa || s[i] != '0') {
            if (digits >= 19) return 0;
            mantissa = mantissa * 10 + (uint64_t)(s[i] - '0');
            digits++;
        }
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (mantissa && i + 8 <= n) {
            uint64_t word;
            memcpy(&word, s + i, 8);
            if (!is_eight_digits(word)) break;
            if (digits + 8 > 19) return 0;
            mantissa = mantissa * 100000000u + eight_digits(word);
            digits += 8;
            exponent -= 8;
            any_digit = 1;
            i += 8;
        }
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            any_digit = 1;
            if (mantissa || s[i] != '0') {
                if (digits >= 19) return 0;
                mantissa = mantissa * 10 + (uint64_t)(s[i] - '0');
                digits++;
            }
            exponent--;
            i++;
        }
    }
    if (!any_digit) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int exp_negative = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            exp_negative = s[i] == '-';
            i++;
        }
        if (i >= n) return 0;
        int value = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (value > 10000) return 0;
            value = value * 10 + (s[i] - '0');
            i++;
        }
        exponent += exp_negative ? -value : value;
    }
    if (i != n) return 0;
    return scale(mantissa, exponent, negative, s, n, out);
}

#if EISEL_LEMIRE
/*
 * 5^q for -27 <= q <= 27 as 128-bit numbers with the top bit set ({high, low} words), made with
 * Python's integers:
 *   q >= 0: c = 5**q; while c < 2**127: c *= 2; then while c >= 2**128: c //= 2 (cut)
 *   q < 0:  z = the least z with 2**z >= 5**-q; c = 2**(z + 127) // 5**-q + 1 (rounded up)
 */
static const uint64_t POW5_128[55][2] = {
    {0x9e74d1b791e07e48ull, 0x775ea264cf55347eull}, /* 5^-27 */
    {0xc612062576589ddaull, 0x95364afe032a819eull}, /* 5^-26 */
    {0xf79687aed3eec551ull, 0x3a83ddbd83f52205ull}, /* 5^-25 */
    {0x9abe14cd44753b52ull, 0xc4926a9672793543ull}, /* 5^-24 */
    {0xc16d9a0095928a27ull, 0x75b7053c0f178294ull}, /* 5^-23 */
    {0xf1c90080baf72cb1ull, 0x5324c68b12dd6339ull}, /* 5^-22 */
    {0x971da05074da7beeull, 0xd3f6fc16ebca5e04ull}, /* 5^-21 */
    {0xbce5086492111aeaull, 0x88f4bb1ca6bcf585ull}, /* 5^-20 */
    {0xec1e4a7db69561a5ull, 0x2b31e9e3d06c32e6ull}, /* 5^-19 */
    {0x9392ee8e921d5d07ull, 0x3aff322e62439fd0ull}, /* 5^-18 */
    {0xb877aa3236a4b449ull, 0x09befeb9fad487c3ull}, /* 5^-17 */
    {0xe69594bec44de15bull, 0x4c2ebe687989a9b4ull}, /* 5^-16 */
    {0x901d7cf73ab0acd9ull, 0x0f9d37014bf60a11ull}, /* 5^-15 */
    {0xb424dc35095cd80full, 0x538484c19ef38c95ull}, /* 5^-14 */
    {0xe12e13424bb40e13ull, 0x2865a5f206b06fbaull}, /* 5^-13 */
    {0x8cbccc096f5088cbull, 0xf93f87b7442e45d4ull}, /* 5^-12 */
    {0xafebff0bcb24aafeull, 0xf78f69a51539d749ull}, /* 5^-11 */
    {0xdbe6fecebdedd5beull, 0xb573440e5a884d1cull}, /* 5^-10 */
    {0x89705f4136b4a597ull, 0x31680a88f8953031ull}, /* 5^-9 */
    {0xabcc77118461cefcull, 0xfdc20d2b36ba7c3eull}, /* 5^-8 */
    {0xd6bf94d5e57a42bcull, 0x3d32907604691b4dull}, /* 5^-7 */
    {0x8637bd05af6c69b5ull, 0xa63f9a49c2c1b110ull}, /* 5^-6 */
    {0xa7c5ac471b478423ull, 0x0fcf80dc33721d54ull}, /* 5^-5 */
    {0xd1b71758e219652bull, 0xd3c36113404ea4a9ull}, /* 5^-4 */
    {0x83126e978d4fdf3bull, 0x645a1cac083126eaull}, /* 5^-3 */
    {0xa3d70a3d70a3d70aull, 0x3d70a3d70a3d70a4ull}, /* 5^-2 */
    {0xccccccccccccccccull, 0xcccccccccccccccdull}, /* 5^-1 */
    {0x8000000000000000ull, 0x0000000000000000ull}, /* 5^0 */
    {0xa000000000000000ull, 0x0000000000000000ull}, /* 5^1 */
    {0xc800000000000000ull, 0x0000000000000000ull}, /* 5^2 */
    {0xfa00000000000000ull, 0x0000000000000000ull}, /* 5^3 */
    {0x9c40000000000000ull, 0x0000000000000000ull}, /* 5^4 */
    {0xc350000000000000ull, 0x0000000000000000ull}, /* 5^5 */
    {0xf424000000000000ull, 0x0000000000000000ull}, /* 5^6 */
    {0x9896800000000000ull, 0x0000000000000000ull}, /* 5^7 */
    {0xbebc200000000000ull, 0x0000000000000000ull}, /* 5^8 */
    {0xee6b280000000000ull, 0x0000000000000000ull}, /* 5^9 */
    {0x9502f90000000000ull, 0x0000000000000000ull}, /* 5^10 */
    {0xba43b74000000000ull, 0x0000000000000000ull}, /* 5^11 */
    {0xe8d4a51000000000ull, 0x0000000000000000ull}, /* 5^12 */
    {0x9184e72a00000000ull, 0x0000000000000000ull}, /* 5^13 */
    {0xb5e620f480000000ull, 0x0000000000000000ull}, /* 5^14 */
    {0xe35fa931a0000000ull, 0x0000000000000000ull}, /* 5^15 */
    {0x8e1bc9bf04000000ull, 0x0000000000000000ull}, /* 5^16 */
    {0xb1a2bc2ec5000000ull, 0x0000000000000000ull}, /* 5^17 */
    {0xde0b6b3a76400000ull, 0x0000000000000000ull}, /* 5^18 */
    {0x8ac7230489e80000ull, 0x0000000000000000ull}, /* 5^19 */
    {0xad78ebc5ac620000ull, 0x0000000000000000ull}, /* 5^20 */
    {0xd8d726b7177a8000ull, 0x0000000000000000ull}, /* 5^21 */
    {0x878678326eac9000ull, 0x0000000000000000ull}, /* 5^22 */
    {0xa968163f0a57b400ull, 0x0000000000000000ull}, /* 5^23 */
    {0xd3c21bcecceda100ull, 0x0000000000000000ull}, /* 5^24 */
    {0x84595161401484a0ull, 0x0000000000000000ull}, /* 5^25 */
    {0xa56fa5b99019a5c8ull, 0x0000000000000000ull}, /* 5^26 */
    {0xcecb8f27f4200f3aull, 0x0000000000000000ull}, /* 5^27 */
};

/*
 * mantissa * 10^q to the nearest double, ties to even, for mantissa != 0 and -27 <= q <= 27: the
 * Eisel-Lemire method (one or two 64x64-bit products with the table above). Within this range
 * of q the 128-bit product decides every case, exact halves included: no fallback is needed.
 */
static inline double eisel_lemire(uint64_t mantissa, int q) {
    int zeros = __builtin_clzll(mantissa);
    uint64_t w = mantissa << zeros;
    const uint64_t *power = POW5_128[q + 27];
    unsigned __int128 first = (unsigned __int128)w * power[0];
    uint64_t high = (uint64_t)(first >> 64), low = (uint64_t)first;
    if ((high & 0x1FF) == 0x1FF) { /* the bits below the result may carry: add the next 64 */
        uint64_t next = (uint64_t)(((unsigned __int128)w * power[1]) >> 64);
        low += next;
        if (next > low) high++;
    }
    int upper = (int)(high >> 63), shift = upper + 9;
    uint64_t bits = high >> shift; /* 54 or 55 bits: the double's 53 and a rounding bit */
    int64_t power2 = (((152170 + 65536) * (int64_t)q) >> 16) + 63 + upper - zeros + 1023;
    /* exactly halfway (nothing but zeros dropped): round to even rather than up */
    if (low <= 1 && q >= -4 && q <= 23 && (bits & 3) == 1 && (bits << shift) == high) bits &= ~1ull;
    bits += bits & 1;
    bits >>= 1;
    if (bits >= (2ull << 52)) { /* rounding carried into a new bit */
        bits = 1ull << 52;
        power2++;
    }
    bits = (bits & ~(1ull << 52)) | ((uint64_t)power2 << 52);
    double value;
    memcpy(&value, &bits, sizeof(value));
    return value;
}
#endif

/* mantissa * 10^exponent to the nearest double (see parse_number_slow); s, n: the text. */
static inline int scale(uint64_t mantissa, int exponent, int negative, const uint8_t *s, int64_t n,
                        double *out) {
    if (mantissa == 0) {
        *out = negative ? -0.0 : 0.0;
        return 1;
    }
    if (exponent < -27 || exponent > 27) return 0;
#if EISEL_LEMIRE
    (void)s;
    (void)n;
    double value = eisel_lemire(mantissa, exponent);
    *out = negative ? -value : value;
    return 1;
#else
    /* without 128-bit products: exact operands and one correctly rounded operation */
    if (mantissa <= (1ull << 53) && exponent >= -22 && exponent <= 22) {
        /* both operands exact doubles: one correctly rounded double operation */
        double exact = (double)mantissa;
        double y = exponent < 0 ? exact / POW10_DOUBLE[-exponent] : exact * POW10_DOUBLE[exponent];
        *out = negative ? -y : y;
        return 1;
    }
    long double exact = (long double)mantissa;
    long double y = exponent < 0 ? exact / POW10[-exponent] : exact * POW10[exponent];
    double d = (double)y;
#if LDBL_MANT_DIG == 64
    /* x87 extended: the 11 bits below a double's mantissa are exactly one half */
    uint64_t bits;
    memcpy(&bits, &y, sizeof(bits));
    int halfway = (bits & 0x7FF) == 0x400;
#else
    int halfway = 0;
    if ((long double)d != y) {
        double other = nextafter(d, y > (long double)d ? INFINITY : -INFINITY);
        halfway = fabsl(y - (long double)d) == fabsl((long double)other - y);
    }
#endif
    if (halfway) {
        char text[64];
        if (n >= (int64_t)sizeof(text)) return 0;
        memcpy(text, s, (size_t)n);
        text[n] = 0;
        *out = strtod(text, NULL);
        return 1;
    }
    *out = negative ? -d : d;
    return 1;
#endif
}


/* How many of the word's bytes, from the first, are ASCII digits. */
static inline int digit_prefix(uint64_t word) {
    uint64_t t = word ^ 0x3030303030303030ull;
    uint64_t not_digit = ((t + 0x7676767676767676ull) | t) & 0x8080808080808080ull;
    return not_digit ? __builtin_ctzll(not_digit) >> 3 : 8;
}

/* The value of the word's first k (1..7) digit bytes. */
static inline uint32_t leading_digits(uint64_t word, int k) {
    int shift = 8 * (8 - k);
    return eight_digits((word << shift) | (0x3030303030303030ull >> (64 - shift)));
}


/*
 * The usual layout, [-]digits[.digits] with at most 19 digits, read eight bytes at a time;
 * `readable` bytes from s may be loaded (at least n). Anything else goes to parse_number_slow.
 */
static int parse_number_general(const uint8_t *s, int64_t n, int64_t readable, double *out) {
    int64_t i = 0;
    int negative = 0;
    if (n && s[0] == '-') {
        negative = 1;
        i = 1;
    }
    if (n < 1 || i + 24 > readable) return parse_number_slow(s, n, out);
    uint64_t word;
    memcpy(&word, s + i, 8);
    int k = digit_prefix(word);
    if (k == 0 || k == 8 || i + k > n) return parse_number_slow(s, n, out);
    uint64_t mantissa = leading_digits(word, k);
    int digits = k, exponent = 0;
    i += k;
    if (i < n && s[i] == '.') {
        i++;
        for (;;) {
            memcpy(&word, s + i, 8);
            k = digit_prefix(word);
            if (digits + k > 19 || i + k > n) return parse_number_slow(s, n, out);
            if (k == 8) {
                mantissa = mantissa * 100000000u + eight_digits(word);
            } else if (k > 0) {
                static const uint32_t POW10_INT[8] = {1, 10, 100, 1000, 10000, 100000, 1000000,
                                                      10000000};
                mantissa = mantissa * POW10_INT[k] + leading_digits(word, k);
            }
            digits += k;
            exponent -= k;
            i += k;
            if (k < 8) break;
            if (i + 8 > readable) return parse_number_slow(s, n, out);
        }
    }
    if (i != n) return parse_number_slow(s, n, out);
    return scale(mantissa, exponent, negative, s, n, out);
}

/* The value of the word's first k (0..8) digit bytes: the others are replaced by leading zeros. */
static inline uint64_t first_digits(uint64_t word, int k) {
    static const uint64_t ZEROS[9] = {0x3030303030303030ull, 0x30303030303030ull,
                                      0x303030303030ull,     0x3030303030ull,
                                      0x30303030ull,         0x303030ull,
                                      0x3030ull,             0x30ull,
                                      0};
    int half = 4 * (8 - k); /* two shifts of at most 32: a shift by 64 is undefined in C */
    return eight_digits(((word << half) << half) | ZEROS[k]);
}

/*
 * The usual layout, [-]d{1,7}.d{1,16} or [-]d{1,7} with at most 19 digits in all, with no
 * branch that depends on the digit counts: the field's length is known, so the point is found in
 * the first word and each part is read with whole-word arithmetic (`readable` >= n bytes from s
 * may be loaded). Anything else goes to parse_number_general. The result is the same.
 */
HOT int parse_number(const uint8_t *s, int64_t n, int64_t readable, double *out) {
    int negative = s[0] == '-' && n > 1;
    const uint8_t *p = s + negative;
    int64_t length = n - negative;
    if (length > 24 || readable - negative < 24) return parse_number_general(s, n, readable, out);
    uint64_t head;
    memcpy(&head, p, 8);
    int whole = digit_prefix(head); /* digits before the point */
    if (whole == length && whole < 8) {
        return scale(first_digits(head, whole), 0, negative, s, n, out);
    }
    int fraction = (int)length - whole - 1;
    if (whole == 0 || whole == 8 || p[whole] != '.' || fraction < 1 || fraction > 16 ||
        whole + fraction > 19)
        return parse_number_general(s, n, readable, out);
    uint64_t first, second;
    memcpy(&first, p + whole + 1, 8);
    memcpy(&second, p + whole + 9, 8);
    int in_first = fraction < 8 ? fraction : 8, in_second = fraction - in_first;
    if (digit_prefix(first) < in_first || digit_prefix(second) < in_second)
        return parse_number_general(s, n, readable, out);
    uint64_t fraction_value = first_digits(first, in_first) * POW10_INTEGER[in_second] +
                              first_digits(second, in_second);
    uint64_t mantissa = first_digits(head, whole) * POW10_INTEGER[fraction] + fraction_value;
    return scale(mantissa, -fraction, negative, s, n, out);
}

static inline int two_digits(const uint8_t *s, int *out) {
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return 0;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 1;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return days[m - 1];
}

/* Consecutive rows mostly share their date: the last one's text and day number. */
typedef struct {
    uint64_t head;  /* "YYYY-MM-" */
    uint16_t tail;  /* "DD" */
    int64_t days;   /* INT64_MIN: none yet */
} date_cache;

/* YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|+00:00], UTC, to microseconds (the fraction truncated). */
static int parse_iso(const uint8_t *s, int64_t n, int64_t readable, date_cache *cache,
                     int64_t *out) {
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return 0;
    uint64_t head;
    uint16_t tail;
    memcpy(&head, s, 8);
    memcpy(&tail, s + 8, 2);
    int64_t days;
    if (cache->days != INT64_MIN && head == cache->head && tail == cache->tail) {
        days = cache->days;
    } else {
        int c1, c2, month, day;
        if (!two_digits(s, &c1) || !two_digits(s + 2, &c2) || !two_digits(s + 5, &month) ||
            !two_digits(s + 8, &day))
            return 0;
        int year = c1 * 100 + c2;
        if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return 0;
        days = days_from_civil(year, month, day);
        cache->head = head;
        cache->tail = tail;
        cache->days = days;
    }
    int hour, minute, second;
    if (!two_digits(s + 11, &hour) || !two_digits(s + 14, &minute) ||
        !two_digits(s + 17, &second) || hour > 23 || minute > 59 || second > 59)
        return 0;
    int64_t i = 19, micros = 0;
    if (i < n && s[i] == '.' && readable >= 28) {
        /* up to seven digits of fraction in one word (a longer one takes the loop below) */
        uint64_t word;
        memcpy(&word, s + 20, 8);
        int count = digit_prefix(word);
        if (count > n - 20) count = (int)(n - 20);
        if (count >= 1 && count <= 7) {
            uint64_t value = first_digits(word, count);
            if (count == 6) {
                micros = (int64_t)value;
            } else {
                micros = (int64_t)(count > 6 ? value / 10 : value * POW10_INTEGER[6 - count]);
            }
            i = 20 + count;
            goto zone;
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        int count = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (count < 6) micros = micros * 10 + (s[i] - '0');
            count++;
            i++;
        }
        if (count == 0 || count > 9) return 0;
        for (; count < 6; count++) micros *= 10;
    }
zone:
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (n - i == 6 && memcmp(s + i, "+00:00", 6) == 0) {
        i += 6;
    }
    if (i != n) return 0;
    int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second;
    *out = seconds * 1000000 + micros;
    return 1;
}

/* ISO 8601 UTC, or Unix seconds (rounded half to even to the microsecond, as Polars does). */
static int parse_time(const uint8_t *s, int64_t n, int64_t readable, date_cache *cache,
                      int64_t *out) {
    if (n >= 19 && s[4] == '-') return parse_iso(s, n, readable, cache, out);
    double seconds;
    if (!parse_number(s, n, readable, &seconds)) return 0;
    double micros = nearbyint(seconds * 1e6);
    if (!(micros > -9.2e18 && micros < 9.2e18)) return 0;
    *out = (int64_t)micros;
    return 1;
}

/* Every byte valid UTF-8; ASCII runs checked eight bytes at a time. */
static int valid_utf8(const uint8_t *s, int64_t n) {
    int64_t i = 0;
#ifdef __SSE2__
    while (i + 64 <= n) {
        __m128i any = _mm_or_si128(
            _mm_or_si128(_mm_loadu_si128((const __m128i *)(s + i)),
                         _mm_loadu_si128((const __m128i *)(s + i + 16))),
            _mm_or_si128(_mm_loadu_si128((const __m128i *)(s + i + 32)),
                         _mm_loadu_si128((const __m128i *)(s + i + 48))));
        if (_mm_movemask_epi8(any)) break;
        i += 64;
    }
#endif
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t word;
            memcpy(&word, s + i, 8);
            if (!(word & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int extra;
        uint32_t code;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            code = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            code = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            code = c & 0x07;
        } else {
            return 0;
        }
        if (i + extra >= n) return 0;
        for (int k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            code = (code << 6) | (s[i + k] & 0x3F);
        }
        if ((extra == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
            (extra == 3 && (code < 0x10000 || code > 0x10FFFF)))
            return 0;
        i += extra + 1;
    }
    return 1;
}

/*
 * Where the bytes that may end or disturb an unquoted field (, \n " \r) are, one bit a byte, 64
 * bytes at a time: finding the end of a field is then a shift and a count of trailing zeros.
 */
typedef struct {
    const uint8_t *data;
    int64_t size;
    int64_t base; /* the block the mask describes starts here */
    uint64_t mask;
} scanner;

static inline uint64_t block_mask(const uint8_t *block) {
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n');
    const __m128i quote = _mm_set1_epi8('"'), cr = _mm_set1_epi8('\r');
    uint64_t mask = 0;
    for (int k = 0; k < 4; k++) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(block + 16 * k));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(chunk, comma), _mm_cmpeq_epi8(chunk, newline)),
            _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, cr)));
        mask |= (uint64_t)(uint32_t)_mm_movemask_epi8(hit) << (16 * k);
    }
    return mask;
#else
    uint64_t mask = 0;
    for (int k = 0; k < 64; k++) {
        uint8_t c = block[k];
        if (c == ',' || c == '\n' || c == '"' || c == '\r') mask |= 1ull << k;
    }
    return mask;
#endif
}

/* The first such byte at or after p; the caller checks the bytes past the last full block. */
static inline int64_t skip_plain(scanner *s, int64_t p) {
    for (;;) {
        if (p < s->base || p >= s->base + 64) {
            if (p + 64 > s->size) return p;
            s->base = p;
            s->mask = block_mask(s->data + p);
        }
        uint64_t rest = s->mask >> (p - s->base);
        if (rest) return p + __builtin_ctzll(rest);
        p = s->base + 64;
    }
}

/*
 * Lines in data[start:size] (an upper bound on the rows, less one). The same pass notes how far
 * the bytes are plain ASCII: data[start:*ascii_until] is, so the parse checks UTF-8 only after.
 */
int64_t parley_count_newlines(const uint8_t *data, int64_t start, int64_t size,
                              int64_t *ascii_until) {
    int64_t count = 0;
    const uint8_t *p = data + start, *end = data + size;
    *ascii_until = start;
#ifdef __SSE2__
    /* per byte lane, a counter of newlines, summed before it can overflow (255 blocks) */
    const __m128i newline = _mm_set1_epi8('\n');
    int ascii = 1;
    while (end - p >= 16) {
        __m128i lanes = _mm_setzero_si128(), bytes = _mm_setzero_si128();
        for (int k = 0; k < 255 && end - p >= 16; k++, p += 16) {
            __m128i chunk = _mm_loadu_si128((const __m128i *)p);
            lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(chunk, newline));
            bytes = _mm_or_si128(bytes, chunk);
        }
        __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
        count += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
        if (ascii && _mm_movemask_epi8(bytes)) ascii = 0;
        if (ascii) *ascii_until = p - data;
    }
#endif
    while (p < end) {
        const uint8_t *hit = memchr(p, '\n', (size_t)(end - p));
        if (!hit) break;
        count++;
        p = hit + 1;
    }
    return count;
}

/* out[i] = first + i: the _line column, written into memory the caller chose. */
void parley_fill_lines(int64_t *out, int64_t n, int64_t first) {
    for (int64_t i = 0; i < n; i++) out[i] = first + i;
}

typedef struct {
    const uint8_t *base; /* the input, or the scratch buffer */
    int64_t offset;      /* of the field's content within base */
    int64_t length;
    int in_scratch;
    int quoted;
} field;

typedef struct {
    const int32_t *kinds;
    void **values;
    uint8_t **validity;
    int64_t *hard;
    int64_t hard_capacity;
    parse_result *result;
    const uint8_t *end; /* of the input */
    uint8_t *strings;
    int64_t strings_used;
    date_cache dates;
} columns;

HOT void store(columns *c, int32_t slot, int64_t row, const field *f) {
    int32_t kind = c->kinds[slot];
    const uint8_t *text = f->base + f->offset;
    int64_t n = f->length;
    if (kind == KIND_STRING) {
        /* the buffers come zeroed: a null is left untouched (a column of nulls costs no memory) */
        if (n == 0 && !f->quoted) return; /* an empty unquoted field is null */
        string_view *view = (string_view *)c->values[slot] + row;
#ifdef __SSE2__
        if (n <= 12 && !f->in_scratch && c->end - text >= 16) {
            /* length, then the bytes, zero-padded: one load, a mask, a shift, one store */
            const __m128i index = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            __m128i bytes = _mm_loadu_si128((const __m128i *)text);
            bytes = _mm_and_si128(bytes, _mm_cmpgt_epi8(_mm_set1_epi8((char)n), index));
            bytes = _mm_or_si128(_mm_slli_si128(bytes, 4), _mm_cvtsi32_si128((int)n));
            _mm_storeu_si128((__m128i *)view, bytes);
            set_valid(c->validity[slot], row);
            return;
        }
#endif
        view->length = (uint32_t)n;
        if (n <= 12) {
            memcpy(view->prefix, text, (size_t)n);
        } else {
            memcpy(view->prefix, text, 4);
            if (f->in_scratch) {
                view->offset = (int32_t)f->offset;
            } else {
                memcpy(c->strings + c->strings_used, text, (size_t)n);
                view->offset = (int32_t)c->strings_used;
                c->strings_used += n;
            }
        }
        set_valid(c->validity[slot], row);
        return;
    }
    int64_t start = 0, end = n;
    int64_t readable = f->in_scratch ? n : c->end - text;
    /* every space byte is <= ' ': one test each end in the usual case */
    if (n && text[0] <= ' ')
        while (start < end && is_space(text[start])) start++;
    if (end > start && text[end - 1] <= ' ')
        while (end > start && is_space(text[end - 1])) end--;
    /* Polars' typed read refuses a number followed by spaces, or spaces alone */
    if (kind == KIND_FLOAT && end < n) c->result->trailing_space++;
    int ok;
    if (kind == KIND_FLOAT) {
        double *out = (double *)c->values[slot] + row;
        if (start == end) return;
        ok = parse_number(text + start, end - start, readable - start, out);
    } else {
        int64_t *out = (int64_t *)c->values[slot] + row;
        if (start == end) return;
        ok = parse_time(text + start, end - start, readable - start, &c->dates, out);
    }
    if (ok) {
        set_valid(c->validity[slot], row);
        return;
    }
    parse_result *r = c->result;
    if (r->hard >= c->hard_capacity) {
        if (r->status == STATUS_OK) r->status = STATUS_TOO_MANY_HARD;
        return;
    }
    int64_t *entry = c->hard + 5 * r->hard;
    entry[0] = row;
    entry[1] = slot;
    entry[2] = f->offset;
    entry[3] = n;
    entry[4] = f->in_scratch ? HARD_IN_SCRATCH : 0;
    r->hard++;
}

/*
 * Parse data[start:size] (the rows after the header) into the slots of the header's fields:
 * kinds[field] is a KIND_*, values/validity[field] the buffers of that field (unused for
 * KIND_SKIP). Hard cells are written as (row, field, offset, length, flags) into `hard`.
 * data[start:ascii_until] is known to be ASCII (parley_count_newlines), so not checked again.
 * Returns the status (also in result->status).
 */
int64_t parley_parse_canonical_csv(const uint8_t *data, int64_t size, int64_t start,
                                   int32_t n_fields, const int32_t *kinds, void **values,
                                   uint8_t **validity, int64_t capacity, uint8_t *scratch,
                                   int64_t scratch_capacity, int64_t *hard,
                                   int64_t hard_capacity, int64_t ascii_until,
                                   parse_result *result) {
    memset(result, 0, sizeof(*result));
    columns c = {kinds,        values, validity, hard, hard_capacity, result, data + size,
                 scratch,      0,      {0, 0, INT64_MIN}};
    int64_t checked = ascii_until > start && ascii_until <= size ? ascii_until : start;
    if (!valid_utf8(data + checked, size - checked)) {
        result->status = STATUS_BAD_UTF8;
        return result->status;
    }
    /* every byte of the strings buffer comes from a distinct input byte */
    if (scratch_capacity < size - start) {
        result->status = STATUS_SCRATCH;
        return result->status;
    }
    int64_t pos = start, row = 0;
    scanner scan = {data, size, -64, 0};
    while (pos < size) {
        if (row >= capacity) {
            result->status = STATUS_CAPACITY;
            break;
        }
        int32_t index = 0;
        int end_of_record = 0;
        while (!end_of_record) {
            field f = {data, pos, 0, 0, 0};
            if (pos < size && data[pos] == '"') {
                f.quoted = 1;
                int64_t p = pos + 1, content = p;
                int escaped = 0;
                for (;;) {
                    const uint8_t *q = memchr(data + p, '"', (size_t)(size - p));
                    if (!q) {
                        result->status = STATUS_UNCLOSED_QUOTE;
                        result->status_offset = pos;
                        return result->status;
                    }
                    p = q - data;
                    if (p + 1 < size && data[p + 1] == '"') {
                        escaped = 1;
                        p += 2;
                        continue;
                    }
                    break;
                }
                /* p is the closing quote */
                if (memchr(data + content, '\r', (size_t)(p - content))) {
                    result->status = STATUS_LONE_CR;
                    result->status_offset = pos;
                    return result->status;
                }
                if (escaped) {
                    int64_t out = c.strings_used;
                    for (int64_t k = content; k < p; k++) {
                        scratch[out++] = data[k];
                        if (data[k] == '"') k++;
                    }
                    f.base = scratch;
                    f.offset = c.strings_used;
                    f.length = out - c.strings_used;
                    f.in_scratch = 1;
                    c.strings_used = out;
                } else {
                    f.offset = content;
                    f.length = p - content;
                }
                pos = p + 1;
                if (pos >= size) {
                    end_of_record = 1;
                } else if (data[pos] == ',') {
                    pos++;
                } else if (data[pos] == '\n') {
                    pos++;
                    end_of_record = 1;
                } else if (data[pos] == '\r' && pos + 1 < size && data[pos + 1] == '\n') {
                    pos += 2;
                    end_of_record = 1;
                } else {
                    result->status = STATUS_TEXT_AFTER_QUOTE;
                    result->status_offset = pos;
                    return result->status;
                }
            } else {
                int64_t p = skip_plain(&scan, pos);
                while (p < size) {
                    uint8_t ch = data[p];
                    if (ch == ',' || ch == '\n') break;
                    if (ch == '"') {
                        result->status = STATUS_QUOTE_IN_FIELD;
                        result->status_offset = p;
                        return result->status;
                    }
                    if (ch == '\r') {
                        if (p + 1 < size && data[p + 1] == '\n') break;
                        result->status = STATUS_LONE_CR;
                        result->status_offset = p;
                        return result->status;
                    }
                    p++;
                }
                f.length = p - pos;
                if (p >= size) {
                    pos = p;
                    end_of_record = 1;
                } else if (data[p] == ',') {
                    pos = p + 1;
                } else if (data[p] == '\n') {
                    pos = p + 1;
                    end_of_record = 1;
                } else { /* \r\n */
                    pos = p + 2;
                    end_of_record = 1;
                }
            }
            if (index < n_fields && kinds[index] != KIND_SKIP) store(&c, index, row, &f);
            index++;
            /* a comma that ends the data still opens one more (empty) field */
            if (!end_of_record && pos >= size) {
                field empty = {data, pos, 0, 0, 0};
                if (index < n_fields && kinds[index] != KIND_SKIP) store(&c, index, row, &empty);
                index++;
                end_of_record = 1;
            }
        }
        for (; index < n_fields; index++) {
            if (kinds[index] == KIND_SKIP) continue;
            field missing = {data, pos, 0, 0, 0};
            store(&c, index, row, &missing);
        }
        row++;
        if (result->status != STATUS_OK) break;
    }
    result->rows = row;
    result->scratch_used = c.strings_used;
    return result->status;
}

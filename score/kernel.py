"""moodcast's model as a native kernel (numba) that scores Arrow batches on one core.

Why a kernel of our own: the default model, five members of 32 hidden units, costs 2,240
multiply-adds per track. TensorFlow spends most of its time moving (batch, 32) tensors through
memory between ops, DuckDB's SQL form evaluates one expression at a time; this kernel keeps a
block of rows in cache and computes the whole network on it, vectorised across rows: about 8 M
tracks/s on one core here, several times either. Its weights are the Keras model's, read by
moodcast.model.extract with the preprocessing folded in and saved next to the model
(moodcast.model.weights), so probabilities differ from Keras's by float32 rounding only (~1e-6);
tests hold the kernel to `model.predict`.

The sums over the 10 features and the 4 classes are written out term by term: with no loop inside
the loop over rows, LLVM vectorises across rows. Hence the fixed sizes, which are the contract's.
"""

from collections.abc import Sequence

import numpy as np
from numba import njit

from moodcast.model.weights import N_CLASSES, N_FEATURES, Weights

BLOCK_ROWS = 512  # rows computed together: their features and logits stay in the core's L1/L2 cache
assert (N_FEATURES, N_CLASSES) == (10, 4), "the kernel's sums are written out for 10 features and 4 classes"


# Cephes's single-precision log and exp (http://www.netlib.org/cephes/, logf.c and expf.c): a
# polynomial on the mantissa, the exponent handled in bits. Unlike libm's calls they vectorise across
# rows; they are within 2 ulp of libm, so the probabilities stay within float32 rounding of Keras's.
# Inlined into score_block, where LLVM vectorises them with the rest (called, they run 30 % slower).
LN2_HIGH, LN2_LOW = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 = LN2_HIGH + LN2_LOW, split exactly
LOG2_E = np.float32(1.44269504088896341)
SQRT_HALF = np.float32(0.707106781186547524)
MANTISSA_BITS, EXPONENT_OF_HALF = np.int32(0x007FFFFF), np.int32(0x3F000000)  # float32 [0.5, 1) = 0x3F000000 | mantissa
SMALLEST_EXPONENT = np.float32(-87.0)  # e^-87 is the smallest normal float32: below it, 0 to float32 precision


@njit(fastmath=True, nogil=True, cache=True, boundscheck=False, inline='always')
def log_into(values, offset, out, bits, exponent):
    """out = log(max(values, 0) + offset) for offset > 0; bits and exponent are int32 scratch of the same size."""
    for r in range(values.shape[0]):
        out[r] = max(values[r], np.float32(0.0)) + offset
    out_bits = out.view(np.int32)
    for r in range(out.shape[0]):  # x = m 2^e with m in [0.5, 1)
        bits[r] = (out_bits[r] & MANTISSA_BITS) | EXPONENT_OF_HALF
        exponent[r] = (out_bits[r] >> 23) - 126
    mantissa = bits.view(np.float32)
    for r in range(out.shape[0]):
        m, e = mantissa[r], np.float32(exponent[r])
        below = m < SQRT_HALF  # keep m - 1 small: log x = log(2m) + (e - 1) log 2
        e = e - np.float32(1.0) if below else e
        q = (m + m if below else m) - np.float32(1.0)
        qq = q * q
        y = ((((((((np.float32(7.0376836292e-2) * q - np.float32(1.1514610310e-1)) * q
                   + np.float32(1.1676998740e-1)) * q - np.float32(1.2420140846e-1)) * q
                 + np.float32(1.4249322787e-1)) * q - np.float32(1.6668057665e-1)) * q
               + np.float32(2.0000714765e-1)) * q - np.float32(2.4999993993e-1)) * q
             + np.float32(3.3333331174e-1)) * q * qq
        out[r] = q + (y + e * LN2_LOW - np.float32(0.5) * qq) + e * LN2_HIGH


@njit(fastmath=True, nogil=True, cache=True, boundscheck=False, inline='always')
def exp_in_place(values, bits):
    """values = exp(values) for values <= 0 (0 below SMALLEST_EXPONENT); bits is int32 scratch of the same size."""
    for r in range(values.shape[0]):  # e^t = 2^k e^q with q = t - k ln 2 in [-ln2/2, ln2/2]
        t = max(values[r], SMALLEST_EXPONENT)
        k = np.floor(t * LOG2_E + np.float32(0.5))
        q = t - k * LN2_HIGH - k * LN2_LOW
        p = ((((np.float32(1.9875691500e-4) * q + np.float32(1.3981999507e-3)) * q
               + np.float32(8.3334519073e-3)) * q + np.float32(4.1665795894e-2)) * q
             + np.float32(1.6666665459e-1)) * q + np.float32(5.0000001201e-1)
        values[r] = p * q * q + q + np.float32(1.0)
        bits[r] = (np.int32(k) + np.int32(127)) << 23  # the float32 2^k
    scale = bits.view(np.float32)
    for r in range(values.shape[0]):
        values[r] *= scale[r]


@njit(fastmath=True, nogil=True, cache=True, boundscheck=False)
def score_block(x, log_offsets, log_mask, w1, b1, relu, w2, b2, probabilities):
    """Probabilities (classes, n) from x, a tuple of features (n)."""
    n = x[0].shape[0]
    members, _, hidden = w1.shape
    for start in range(0, n, BLOCK_ROWS):
        rows = min(n, start + BLOCK_ROWS) - start
        f = np.empty((N_FEATURES, rows), np.float32)
        scratch = np.empty((2, rows), np.int32)
        for k in range(N_FEATURES):
            if log_mask[k]:
                log_into(x[k][start:start + rows], log_offsets[k], f[k], scratch[0], scratch[1])
            else:
                f[k, :] = x[k][start:start + rows]
        total = np.zeros((N_CLASSES, rows), np.float32)
        z = np.empty((N_CLASSES, rows), np.float32)
        peak = np.empty(rows, np.float32)
        for m in range(members):
            for c in range(N_CLASSES):
                z[c, :] = b2[m, c]
            for j in range(hidden):
                # The unit's weights as scalars: LLVM keeps them in registers across the rows (read from arrays,
                # they are read again for every row, which might have changed them by writing z: 30 % slower).
                v0, v1, v2, v3, v4, v5, v6, v7, v8, v9 = w1[m, :, j]
                o0, o1, o2, o3 = w2[m, j, :]
                bias = b1[m, j]
                for r in range(rows):
                    h = (bias + f[0, r] * v0 + f[1, r] * v1 + f[2, r] * v2 + f[3, r] * v3 + f[4, r] * v4
                         + f[5, r] * v5 + f[6, r] * v6 + f[7, r] * v7 + f[8, r] * v8 + f[9, r] * v9)
                    if relu:
                        h = max(h, np.float32(0.0))
                    z[0, r] += h * o0
                    z[1, r] += h * o1
                    z[2, r] += h * o2
                    z[3, r] += h * o3
            # Softmax, shifted by the largest logit as Keras does.
            for r in range(rows):
                peak[r] = max(max(z[0, r], z[1, r]), max(z[2, r], z[3, r]))
            for c in range(N_CLASSES):
                for r in range(rows):
                    z[c, r] -= peak[r]
                exp_in_place(z[c], scratch[0])
            for r in range(rows):
                inverse = np.float32(1.0) / (z[0, r] + z[1, r] + z[2, r] + z[3, r])
                total[0, r] += z[0, r] * inverse
                total[1, r] += z[1, r] * inverse
                total[2, r] += z[2, r] * inverse
                total[3, r] += z[3, r] * inverse
        for c in range(N_CLASSES):
            for r in range(rows):
                probabilities[c, start + r] = total[c, r] / np.float32(members)


class Kernel:
    """A compiled model: `predict` takes one float32 array per feature and runs on the calling thread, GIL
    released."""

    def __init__(self, weights: Weights):
        self.weights = weights
        # Load the machine code now, with the model, rather than on the first batch: 0.3 s from numba's cache
        # (compiling it, after an install or an edit of this file, takes a few seconds).
        self.predict([np.zeros(1, np.float32)] * N_FEATURES)

    def predict(self, columns: Sequence[np.ndarray]) -> np.ndarray:
        """The probabilities (classes, n) float32 from one float32 array of n values per feature: the columns as
        they come, not copied into one matrix."""
        probabilities = np.empty((N_CLASSES, len(columns[0])), np.float32)
        w = self.weights
        score_block(tuple(read_only(column) for column in columns), w.log_offsets, w.log_mask, w.hidden_kernel,
                    w.hidden_bias, w.relu, w.output_kernel, w.output_bias, probabilities)
        return probabilities


def read_only(column: np.ndarray) -> np.ndarray:
    """The column as a contiguous float32 array that cannot be written to, as Arrow hands its columns over.

    numba compiles a kernel for each kind of input, writable or not: the same kind from every caller means
    one compilation, loaded with the model (Kernel.__init__), never one in the middle of a run.
    """
    column = np.ascontiguousarray(column, np.float32).view()
    column.flags.writeable = False
    return column



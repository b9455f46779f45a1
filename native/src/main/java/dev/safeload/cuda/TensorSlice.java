package dev.safeload.cuda;

import java.util.Locale;

/**
 * A contiguous range {@code [start, end)} of one dimension of a tensor, the part one rank of a
 * tensor-parallel group holds. Along dimension 0 (rows of a row-major tensor) the slice is one
 * contiguous byte range of the file; along a later dimension (columns) it is a run of bytes per
 * outer index, gathered on the host so that only the slice's bytes cross the bus.
 *
 * @param dim the sliced dimension
 * @param start first index kept
 * @param end one past the last index kept
 */
public record TensorSlice(int dim, long start, long end) {
    public TensorSlice {
        if (dim < 0 || start < 0 || end < start) {
            throw new IllegalArgumentException(
                    String.format(Locale.ROOT, "invalid slice dim=%d [%d, %d)", dim, start, end));
        }
    }

    /**
     * The {@code rank}-th of {@code worldSize} equal parts of dimension {@code dim} of a tensor of
     * {@code shape}, as Megatron-style column- and row-parallel layers split weights. The dimension
     * must divide evenly.
     */
    public static TensorSlice shard(long[] shape, int dim, int rank, int worldSize) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException(
                    "rank " + rank + " is not in a world of " + worldSize);
        }
        if (dim < 0 || dim >= shape.length) {
            throw new IllegalArgumentException(
                    "dimension " + dim + " is not in a shape of rank " + shape.length);
        }
        if (shape[dim] % worldSize != 0) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "dimension %d (size %d) does not split evenly into %d parts",
                            dim,
                            shape[dim],
                            worldSize));
        }
        long part = shape[dim] / worldSize;
        return new TensorSlice(dim, rank * part, (rank + 1) * part);
    }
}

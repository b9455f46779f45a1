package dev.safeload.cli;

import dev.safeload.safetensors.DType;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;

/**
 * {@code --to DTYPE}: a safetensors dtype name ({@code F16}, {@code bf16}, ...); a wrong name is a
 * usage error.
 */
final class DTypeConverter implements ITypeConverter<DType> {
    @Override
    public DType convert(String value) {
        DType d = DType.lookup(value.toUpperCase(Locale.ROOT));
        if (d == null) {
            throw new TypeConversionException(
                    "unknown dtype '" + value + "' (conversion targets: F32, F16, BF16, F64)");
        }
        return d;
    }
}

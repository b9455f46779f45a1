// Runs the conversion functions of src/main/cuda/convert.cu on the host (they are
// __host__ __device__), so that a machine without a GPU can check them bit for bit against the
// Java reference (ConversionBitsTest). Reads little-endian inputs from argv[2], writes 16-bit
// outputs to argv[3]; argv[1] names the conversion.
#include "../../main/cuda/convert.cu"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: convert_host CONVERSION IN OUT\n");
        return 2;
    }
    FILE *in = fopen(argv[2], "rb");
    FILE *out = fopen(argv[3], "wb");
    if (!in || !out) {
        perror("open");
        return 1;
    }
    int wide = strncmp(argv[1], "f32", 3) == 0;
    unsigned char element[4];
    while (fread(element, wide ? 4 : 2, 1, in) == 1) {
        u16 result;
        if (wide) {
            u32 bits = element[0] | element[1] << 8 | element[2] << 16 | (u32) element[3] << 24;
            float x = bits_float(bits);
            result = strcmp(argv[1], "f32_to_f16") == 0 ? f32_to_f16_bits(x) : f32_to_bf16_bits(x);
        } else {
            u16 bits = (u16) (element[0] | element[1] << 8);
            result = strcmp(argv[1], "bf16_to_f16") == 0 ? f32_to_f16_bits(bf16_bits_to_f32(bits))
                                                         : f32_to_bf16_bits(f16_bits_to_f32(bits));
        }
        unsigned char bytes[2] = {(unsigned char) (result & 0xFF), (unsigned char) (result >> 8)};
        fwrite(bytes, 2, 1, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}

/** The safetensors format. */
package dev.safeload.safetensors;

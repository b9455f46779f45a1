/** Hugging Face hub cache layout, resolver and downloads, compatible with huggingface_hub. */
package dev.safeload.cache;

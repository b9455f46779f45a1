/** LoRA adapters and their application. */
package dev.safeload.lora;

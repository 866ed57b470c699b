/** safetensors and checkpoints (being written). */
export {};

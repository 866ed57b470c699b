/** nn.init: initializers (being written). */
export {};

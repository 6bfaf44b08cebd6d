// Loads the console's WebAssembly (wasm-bindgen's glue, built by `./dev console`).
import init from './fieldpost-console.js';
init();

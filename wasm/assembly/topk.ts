// (kernel file; see wasm/src/kernels.ts for the contract)

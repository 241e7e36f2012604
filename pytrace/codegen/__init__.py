"""Code generation: IR -> LLVM IR (llvmlite) -> BPF object -> the probes'
instructions and relocations, packaged as a `CompiledProgram`."""

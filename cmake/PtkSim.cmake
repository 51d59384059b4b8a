# Flags of the sim-device build (PTK_DEVICE=sim), for every target in it: CUDA's aliasing of
# vector types through reinterpret_cast (-fno-strict-aliasing), no FMA contraction (so that a
# result depends on the source, not on the host's instruction set), and optionally ASan + UBSan
# over kernels, runtime and tests alike.
add_compile_options(-fno-strict-aliasing -ffp-contract=off)
if(PTK_SIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

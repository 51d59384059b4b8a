# Warnings as the project builds them: strict for host code, ptxas resource report for device code
# (CI reads it to prove the attention kernels do not spill registers).
function(ptk_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Werror=implicit-function-declaration>
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall --Werror=all-warnings -Xptxas=-v>)
endfunction()

// The sim device's cuda_runtime.h: the runtime API and the device language, as the real header
// gives a .cu file both.
#pragma once
#include "cuda_runtime_api.h"
#include "ptk_sim/device.h"

// Declarations only (include/FuzzSupport.h); SwiftPM needs one source file per C target.
#include "FuzzSupport.h"

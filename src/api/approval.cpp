// Approval has no behaviour beyond its JSON mapping (approval.h); this file
// keeps one translation unit per kind so the header is compiled on its own.
#include "api/approval.h"

// Result<T>: a value or an error message (formats/result.h), for expected
// failures such as bad input, an unparsable duration or a missing template
// value; returned, never thrown (see STYLE.md "Errors").
#pragma once

#include "formats/result.h"

namespace remedy::api {

using formats::Error;
template <typename T>
using Result = formats::Result<T>;

}  // namespace remedy::api

// Base64 for Secret data and kubeconfig `*-data` fields, under the client's
// names: the one implementation is formats/base64.h (Go's StdEncoding).
#pragma once

#include "formats/base64.h"

namespace remedy::kube {

using formats::decodeBase64;  // a formats::Result: "illegal base64 data at input byte N"
using formats::encodeBase64;

}  // namespace remedy::kube

// Base64 (RFC 4648) as Go's encoding/base64 writes and reads it: Secret data
// and kubeconfig `*-data` fields use the standard alphabet with padding
// (StdEncoding, what encoding/json does with []byte), list continue tokens
// the URL alphabet without padding (RawURLEncoding).
#pragma once

#include "formats/result.h"

#include <string>
#include <string_view>

namespace remedy::formats {

std::string encodeBase64(std::string_view data);
std::string encodeBase64Url(std::string_view data);

// base64.StdEncoding.DecodeString: carriage returns and newlines are
// skipped, padding is required; the error is Go's, such as "illegal base64
// data at input byte 4".
Result<std::string> decodeBase64(std::string_view text);
// base64.RawURLEncoding.DecodeString: the URL alphabet, no padding.
Result<std::string> decodeBase64Url(std::string_view text);

}  // namespace remedy::formats

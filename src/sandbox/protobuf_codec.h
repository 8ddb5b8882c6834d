// Request bodies in the Kubernetes protobuf encoding
// (`Content-Type: application/vnd.kubernetes.protobuf`). kubectl's typed
// clients (create configmap, run, expose, auth can-i, drain, ...) send built-in
// kinds this way, and a real API server accepts them; the sandbox works on
// JSON, so the body is turned into the JSON the Go encoder would have written
// for the same object.
//
// Wire format: the 4-byte magic "k8s\0", then a runtime.Unknown message
// (apimachinery pkg/runtime/generated.proto) whose typeMeta names the kind and
// whose raw bytes are the object message of that kind's generated.proto.
// Only the kinds of the schema table in protobuf_codec.cpp can be decoded.
#pragma once

#include "sandbox/api_error.h"

#include <string>
#include <vector>

namespace remedy::sandbox {

// True for the media type of the Kubernetes protobuf encoding (parameters
// after ';' are ignored).
bool isKubernetesProtobuf(const std::string& contentType);

// Decodes an envelope into JSON with apiVersion and kind set, camelCase field
// names and Go's omitempty rules: empty strings, zero numbers, false, empty
// lists, maps and messages are left out, but fields that are pointers in Go
// (spec.replicas, emptyDir: {}, ...) or have no omitempty keep their zero.
// Errors: 400 BadRequest for a malformed body, 415 UnsupportedMediaType for a
// kind the table lacks or a content encoding other than none.
Result<json> decodeKubernetesProtobuf(const std::string& body);

// The "apiVersion/kind" pairs decodeKubernetesProtobuf accepts, e.g.
// "apps/v1/Deployment"; for tests and error messages.
std::vector<std::string> protobufDecodableKinds();

}  // namespace remedy::sandbox

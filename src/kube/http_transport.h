// The HTTP transport over cpprestsdk and OpenSSL. Only this factory is
// public: the cpprest headers stay inside http_transport.cpp, so code that
// uses the library never compiles them.
#pragma once

#include "kube/config.h"
#include "kube/credentials.h"
#include "kube/status.h"
#include "kube/transport.h"

#include <memory>

namespace remedy::kube {

// Verifies the server with config.caPem (only that CA when given, the system
// roots otherwise) unless insecureSkipTlsVerify; uses tlsServerName for SNI
// and verification; presents the client certificate that `credentials` give
// (they may change: new connections then use the new one). Connections are
// pooled and reused. Does not add Authorization: see AuthenticatingTransport.
Result<std::unique_ptr<Transport>> makeHttpTransport(const Config& config,
                                                     std::shared_ptr<Credentials> credentials);

}  // namespace remedy::kube

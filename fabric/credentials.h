// What a Corral process shows corrald (no gRPC in this header: fabric/channel.h dials with it).
#pragma once

#include <string>

#include "common/status.h"

namespace corral {

// What a Corral process shows corrald, and how it knows corrald is the cluster's own.
struct Credentials {
  std::string ca_pem;             // the cluster CA: corrald's TLS certificate is checked against it
  std::string key_pem, cert_pem;  // a node's identity, for mutual TLS; empty for users
  std::string token;              // a user's or a job's token, sent with every call
};
// From the environment: the CA from the file $CORRAL_CA (else ~/.config/corral/ca.pem if it
// exists), the token from $CORRAL_TOKEN, else $CORRAL_JOB_TOKEN (which a job's environment
// has). Invalid names the variable whose file cannot be read.
Result<Credentials> CredentialsFromEnv();

}  // namespace corral

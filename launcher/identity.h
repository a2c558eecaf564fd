// A node's identity: its key (made here; it never leaves the node), the certificate corrald
// signed for it at attach, and the cluster CA, under STATE/identity (0700; key 0600). The
// first start attaches with a join token; later starts, and restarts, use what was kept.
//
// Trust at attach: the CA comes from --ca (a file), or else from the controller's own TLS
// handshake, and is taken only if its fingerprint is the pin that the join token carries
// (cj1.ID.SECRET.PIN), as kubeadm's discovery hash works. A man in the middle cannot produce
// a certificate of the cluster CA, so the attach fails rather than talk to it.
#pragma once

#include <atomic>
#include <string>

#include "common/status.h"
#include "fabric/credentials.h"

namespace corral {

struct AttachOptions {
  std::string controller;  // host:port
  std::string state_dir;
  std::string name;         // the node's, or a simulated fleet's prefix
  int32_t fleet = 0;        // corral-node --simulate N
  std::string join_token;   // needed only when nothing is kept yet
  std::string ca_file;      // optional: the CA to trust instead of the pinned handshake's
  int64_t wait_ms = 60000;  // how long to retry a controller that does not answer
  // Ask for a place in the overlay mesh (launcher/mesh.h): a Nebula key is made here, and what
  // corrald grants is kept beside the identity (mesh-*). The caller checked it can run nebula.
  bool overlay = false;
};

// Unauthenticated or PermissionDenied from corrald pass through; Invalid names the flag.
Result<Credentials> LoadOrAttach(const AttachOptions& o, const std::atomic<bool>& stop);

}  // namespace corral

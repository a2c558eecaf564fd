// Admin holds on nodes: `corral admin node drain|down|resume|list` (like scontrol update
// nodename=... state=drain|down|resume reason=...), and their providers' labels (`corral-node
// rename`). Kept in the store's admin table, so that a
// hold outlives a restart of corrald; a held node is not Usable() (controller_impl.h), so the
// scheduling passes leave it out. Methods of Controller (and Impl), on the writer thread.
#include <algorithm>
#include <vector>

#include "common/log.h"
#include "sched/core/partition.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

namespace {
constexpr const char* kKind = "node-hold";
constexpr const char* kLabelKind = "node-label";
constexpr size_t kMaxReason = 256;
constexpr size_t kMaxLabel = 64;
constexpr int kMaxPatterns = 10000;

// A display name: printable ASCII or UTF-8, no control characters.
Status CheckLabel(const std::string& label) {
  if (label.size() > kMaxLabel) {
    return Status::Invalid("node label: longer than " + std::to_string(kMaxLabel) + " bytes");
  }
  for (unsigned char c : label) {
    if (c < 0x20 || c == 0x7f) return Status::Invalid("node label: has a control character");
  }
  return Status::Ok();
}
}  // namespace

Status Controller::Impl::LoadNodeHolds() {
  auto rows = store->LoadAdmin(kKind);
  if (!rows.ok()) return rows.status();
  for (const auto& [name, bytes] : *rows) {
    v1::NodeHold h;
    auto it = nodes.find(name);
    if (!h.ParseFromString(bytes) || h.node() != name ||
        (h.state() != "drain" && h.state() != "down")) {
      spdlog::error("state store: hold on node \"{}\" is unreadable; ignored", name);
      continue;
    }
    if (it == nodes.end()) {
      spdlog::warn("state store: hold on node {}, which is not known; ignored", name);
      continue;
    }
    it->second.hold = h;
  }
  auto labels = store->LoadAdmin(kLabelKind);
  if (!labels.ok()) return labels.status();
  for (const auto& [name, label] : *labels) {
    auto it = nodes.find(name);
    if (it != nodes.end() && CheckLabel(label).ok()) it->second.label = label;
  }
  return Status::Ok();
}

Result<v1::AdminNodeReply> Controller::AdminNode(const v1::AdminNodeRequest& req) {
  using R = Result<v1::AdminNodeReply>;
  return impl_->Run<R>([this, req](Batch& b) -> R {
    Impl& I = *impl_;
    const std::string& op = req.op();
    if (op != "drain" && op != "down" && op != "resume" && op != "list" && op != "forget" &&
        op != "label") {
      return Status::Invalid("node: unknown operation \"" + op.substr(0, 32) +
                             "\" (drain, down, resume, forget, label or list)");
    }
    if (op == "label") {
      if (req.nodes_size() != 1) return Status::Invalid("node label: name exactly one node");
      if (Status s = CheckLabel(req.label()); !s.ok()) return s;
      auto it = I.nodes.find(req.nodes(0));
      if (it == I.nodes.end()) {
        return Status::NotFound("node " + req.nodes(0).substr(0, 64) + ": no such node");
      }
      Status s = req.label().empty() ? I.store->DeleteAdmin(kLabelKind, it->first)
                                     : I.store->PutAdmin(kLabelKind, it->first, req.label());
      if (!s.ok()) return s;
      spdlog::info("node {}: labelled \"{}\" by {} (was \"{}\")", it->first, req.label(),
                   req.user(), it->second.label);
      it->second.label = req.label();
      b.nodes_changed = true;
      v1::AdminNodeReply reply;
      reply.add_changed(it->first);
      return reply;
    }
    if (op == "forget") {
      // The node's certificates stop working; it attaches again only with a new join token.
      // By exact name: it may be a node that never registered (its attach did, not its agent).
      v1::AdminNodeReply reply;
      if (req.nodes().empty()) return Status::Invalid("node forget: give the nodes to forget");
      for (const std::string& name : req.nodes()) {
        const auto ids = I.access->Identities();
        if (std::none_of(ids.begin(), ids.end(),
                         [&](const v1::NodeIdentity& n) { return n.name() == name; })) {
          return Status::NotFound("node forget: " + name.substr(0, 64) + ": no node attached so");
        }
      }
      for (const std::string& name : req.nodes()) {
        // The streams open now end too: the node itself, or each node of a fleet (NAME1..).
        int32_t fleet = 0;
        for (const auto& n : I.access->Identities()) {
          if (n.name() == name) fleet = std::max(fleet, n.fleet());
        }
        for (auto& [node, entry] : I.nodes) {
          const bool member =
              node.size() > name.size() && node.rfind(name, 0) == 0 &&
              node.find_first_not_of("0123456789", name.size()) == std::string::npos &&
              node.size() - name.size() <= 6 && std::stoi(node.substr(name.size())) <= fleet;
          if ((node == name || member) && entry.channel) {
            b.after_commit.push_back([ch = entry.channel] {
              ch->Revoke("node forgotten: its certificate is no longer the cluster's");
            });
          }
        }
        auto gone = I.ForgetIdentities(name);
        if (!gone.ok()) return gone.status();
        spdlog::info("node {}: forgotten by {} ({} certificate(s))", name, req.user(),
                     gone->size());
        reply.add_changed(name);
      }
      return reply;
    }
    if (req.nodes_size() > kMaxPatterns) {
      return Status::Invalid("node " + op + ": more than " + std::to_string(kMaxPatterns) +
                             " names");
    }
    if (op != "list" && req.nodes().empty()) {
      return Status::Invalid("node " + op + ": give the nodes to " + op);
    }
    const bool holds = op == "drain" || op == "down";
    if (holds && req.reason().empty()) {
      return Status::Invalid("node " + op + ": --reason: say why (it is shown with the node)");
    }
    if (req.reason().size() > kMaxReason) {
      return Status::Invalid("node " + op + ": --reason: longer than " +
                             std::to_string(kMaxReason) + " characters");
    }
    // Every name or pattern must match a node: a typo must not pass for a no-op.
    std::vector<std::string> matched;
    for (const std::string& pat : req.nodes()) {
      bool any = false;
      for (const auto& [name, n] : I.nodes) {
        if (!sched::GlobMatch(pat, name)) continue;
        any = true;
        if (std::find(matched.begin(), matched.end(), name) == matched.end()) {
          matched.push_back(name);
        }
      }
      if (!any) return Status::NotFound("node " + pat.substr(0, 64) + ": no such node");
    }
    v1::AdminNodeReply reply;
    const TimeMs now = WallNowMs();
    for (const std::string& name : matched) {
      NodeEntry& n = I.nodes[name];
      if (op == "list") continue;
      if (op == "resume") {
        if (n.hold.state().empty()) continue;
        if (Status s = I.store->DeleteAdmin(kKind, name); !s.ok()) return s;
        spdlog::info("node {}: resumed by {} (was {}: {})", name, req.user(), n.hold.state(),
                     n.hold.reason());
        n.hold.Clear();
      } else {
        v1::NodeHold h;
        h.set_node(name);
        h.set_state(op);
        h.set_reason(req.reason());
        h.set_since_ms(now);
        h.set_by(req.user().substr(0, 64));
        if (Status s = I.store->PutAdmin(kKind, name, h.SerializeAsString()); !s.ok()) return s;
        n.hold = h;
        spdlog::info("node {}: {} by {}: {}", name, op == "drain" ? "drained" : "set down",
                     req.user(), req.reason());
        if (op == "down") {
          // What runs there ends as on a lost node: requeued where it allows, else NODE_FAIL.
          const std::vector<JobId> running(n.jobs.begin(), n.jobs.end());
          for (JobId id : running) {
            auto jt = I.jobs.find(id);
            if (jt == I.jobs.end()) continue;
            I.LoseJob(jt->second, "node " + name + " set down: " + req.reason(), now, b);
          }
        }
      }
      reply.add_changed(name);
    }
    if (op != "list") {
      b.nodes_changed = true;
      b.schedule = true;
    }
    for (const auto& [name, n] : I.nodes) {
      if (!n.hold.state().empty()) *reply.add_holds() = n.hold;
    }
    return reply;
  });
}

}  // namespace corral::ctld

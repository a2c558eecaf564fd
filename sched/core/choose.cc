#include "sched/core/choose.h"

#include <algorithm>
#include <set>

#include "common/price.h"

namespace corral::sched {

namespace {

// The job's request as the terms read it, and where: one key per mask.
std::string TermsKey(const JobSpec& s, const NodeMask* partition) {
  std::string k = s.account;
  k += '\0';
  k += s.gpu_model;
  k += '\0';
  k += std::to_string(s.time_limit_ms) + ',' + std::to_string(s.max_price_micro) + ',' +
       (s.TotalGpus() > 0 ? "g" : "c") + ',' +
       std::to_string(reinterpret_cast<uintptr_t>(partition));
  return k;
}

}  // namespace

void Choose(const std::vector<NodeView>& nodes, const GpuCatalog& catalog,
            const std::vector<const GpuSpeeds*>& speeds, std::vector<PendingJob>* queue,
            std::vector<std::pair<JobId, std::string>>* reasons, ChoiceStore* store) {
  bool any_terms = false;
  std::set<std::string> models;
  for (const NodeView& n : nodes) {
    if (!n.up) continue;
    any_terms = any_terms || !n.profile.terms.empty();
    for (const GpuDevice& g : n.profile.gpus) models.insert(g.model);
  }
  const std::vector<std::string> present(models.begin(), models.end());
  // The nodes of `partition` (null: all) whose terms take `s`, and the first refusal.
  auto admitted = [&](const JobSpec& s, const NodeMask* partition) {
    auto [it, fresh] = store->by_terms.try_emplace(TermsKey(s, partition));
    if (!fresh) return it->second;
    NodeMask m(nodes.size(), false);
    bool all = true, some = false;
    std::string why;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (partition && !(i < partition->size() && (*partition)[i])) continue;
      std::string refused = RefusedBy(s, nodes[i].profile, catalog);
      if (refused.empty()) {
        m[i] = true, some = true;
      } else if (nodes[i].up) {
        all = false;
        if (why.empty()) why = std::move(refused);
      }
    }
    const NodeMask* mask = partition;  // all of it takes the job
    if (!some) {
      mask = nullptr;
    } else if (!all) {
      store->masks.push_back(std::move(m));
      mask = &store->masks.back();
    }
    it->second = {mask, some ? "" : why};
    return it->second;
  };
  std::vector<PendingJob> kept;
  kept.reserve(queue->size());
  for (size_t j = 0; j < queue->size(); ++j) {
    PendingJob& q = (*queue)[j];
    const JobSpec& s = *q.spec;
    const bool choose = ChoosesModel(s);
    if (!choose && !TermsApply(s, any_terms)) {
      kept.push_back(std::move(q));
      continue;
    }
    std::vector<std::pair<int32_t, const NodeMask*>> parts = q.alternatives;
    if (parts.empty()) parts.emplace_back(q.partition, q.nodes);
    std::vector<ModelOption> per_model;
    if (choose) {
      per_model =
          ModelOptions(s, q.runtime_ms, present, catalog, j < speeds.size() ? speeds[j] : nullptr);
      if (per_model.empty()) {
        int64_t cheapest = -1;
        std::string name;
        for (const std::string& m : present) {
          if (!GpuModelMatches(s.gpu_model, m)) continue;
          const int64_t r = RateOf(catalog, m);
          if (cheapest < 0 || r < cheapest) cheapest = r, name = m;
        }
        reasons->emplace_back(q.id, cheapest < 0 ? "ReqNodeNotAvail (terms): no GPU of the model"
                                                 : "ReqNodeNotAvail (terms): the cheapest model, " +
                                                       name + ", is " + FormatPrice(cheapest) +
                                                       "/GPU-hour, over --max-price=" +
                                                       FormatPrice(s.max_price_micro));
        continue;
      }
    }
    std::vector<PendingOption> options;
    std::string why;
    auto add = [&](const JobSpec& spec, TimeMs runtime, double cost) {
      for (const auto& [k, mask] : parts) {
        auto [m, refused] = admitted(spec, mask);
        if (!refused.empty()) {
          if (why.empty()) why = refused;
          continue;
        }
        options.push_back({&spec, runtime, k, m, cost});
      }
    };
    if (choose) {
      for (const ModelOption& o : per_model) {
        JobSpec& one = store->specs.emplace_back(s);
        one.gpu_model = o.model;
        one.gpu_models_in_order = false;
        add(one, o.runtime_ms, o.cost);
      }
    } else {
      add(s, q.runtime_ms, 0);
    }
    if (options.empty()) {
      reasons->emplace_back(q.id, "ReqNodeNotAvail (terms): " + why);
      continue;
    }
    q.partition = options.front().partition;
    if (choose || options.size() > 1) {
      q.options = std::move(options);
      q.choice = choose ? s.gpu_choice : GpuChoice::kAny;
    } else {
      q.nodes = options.front().nodes;
      q.alternatives.clear();
    }
    kept.push_back(std::move(q));
  }
  *queue = std::move(kept);
}

}  // namespace corral::sched

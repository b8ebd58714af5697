// Values files (--values FILE.yaml): flag and parameter values for one
// configuration, read with yaml-cpp. Part of the front end (frontend.h).
//
// The file is a YAML mapping from names declared in the rules file to values:
//
//   internal_tls: true              # a flag: true or false
//   namespace: prod-streams         # a string parameter
//   replicas: 3                     # an int parameter
//   tls_listener_peers:             # a peers parameter: NetworkPolicyPeers
//     - podSelector:                #   (Event Streams' networkPolicyPeers)
//         matchLabels: {app: clients}
//     - namespaceSelector:
//         matchLabels: {team: data}
//       podSelector: {}
//     - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
//     - kafka                       #   or peers in the rules syntax
//   pod_networks: [10.128.0.0/14]   # a cidrs parameter: a list of CIDRs, or
//                                   #   one string "10.128.0.0/14, fd01::/48"
//
// Every problem (malformed YAML, an unknown name, a wrong type, an invalid
// peer) is reported at its file:line:col, with the line and a caret.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/module.h"
#include "compiler/source.h"

namespace netpolc {

// How deep a values file may nest (block levels and flow collections
// together); a peers value needs about six.
constexpr size_t kMaxValuesNesting = 64;

// Reads the values file `path` and applies its settings to `config`,
// marking the flags it sets in `given_flags` (if not null). On error,
// appends the rendered diagnostics to `err` and returns false.
bool ApplyValuesFile(const std::string& path, const ir::Module& module, ir::Config& config,
                     SourceManager& sources, std::string& err, std::vector<bool>* given_flags);

}  // namespace netpolc

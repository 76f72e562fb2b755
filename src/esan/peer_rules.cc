#include "esan/peer_rules.h"

namespace vcube::esan {
namespace {

connect_verdict refuse(std::string reason, bool is_split_brain = false) {
  return {connect_action::refuse, false, is_split_brain, std::move(reason)};
}

connect_verdict decide(const std::string& volume, const volume_meta& self,
                       const repl::hello& peer) {
  if (peer.volume != volume)
    return refuse("the peer serves volume '" + peer.volume + "', not '" + volume + "'");
  if (peer.size_bytes != self.size_bytes)
    return refuse("size mismatch: grow both (this side " + std::to_string(self.size_bytes) +
                  " bytes, the peer " + std::to_string(peer.size_bytes) + ")");
  if (peer.region_bytes != self.region_bytes)
    return refuse("the sides differ in region size");
  auto c = compare_generations(self.gens, peer.gens);
  // Split brain is the diagnosis that matters even when both are primary.
  if (peer.is_primary && self.role == volume_role::primary &&
      c.decision != sync_decision::split_brain)
    return refuse("both sides are primary; demote one before they connect");
  switch (c.decision) {
    case sync_decision::none:
      if (self.gens.current == 0)
        return refuse("a new volume: start its initial sync on the side that holds the data");
      if (!self.is_consistent && peer.is_consistent)
        return {connect_action::resync_target, true, false,
                "this side is inconsistent (an interrupted full sync): receiving every region"};
      if (self.is_consistent && !peer.is_consistent)
        return {connect_action::resync_source, true, false,
                "the peer is inconsistent (an interrupted full sync): sending every region"};
      return {connect_action::established, false, false, c.reason};
    case sync_decision::source_bitmap:
      return {connect_action::resync_source, false, false, c.reason};
    case sync_decision::target_bitmap:
      return {connect_action::resync_target, false, false, c.reason};
    case sync_decision::source_full:
      return {connect_action::resync_source, true, false, c.reason};
    case sync_decision::target_full:
      return {connect_action::resync_target, true, false, c.reason};
    case sync_decision::split_brain:
      return refuse("split brain: " + c.reason +
                        "; choose the side whose data to discard (vcube disk resolve-split-brain)",
                    true);
    case sync_decision::unrelated_data:
      return refuse("unrelated data: " + c.reason);
  }
  return refuse("unknown generation comparison");
}

// A side that crashed while primary has its activity log's extents in its
// bitmap: regions it may have written without the peer. Whoever is the
// source, those regions go over too: a crashed source sends them with its
// own bitmap; a crashed target sends its bitmap to the source, which adds
// it to what it sends (a bitmap frame, mirror.cc). Both sides crashed (or a
// full sync anyway) needs no exchange.
connect_verdict after_crash(connect_verdict v, const volume_meta& self, const repl::hello& peer,
                            crash_recovery recovering) {
  if (v.action == connect_action::refuse || (!recovering.is_self && !recovering.is_peer))
    return v;
  if (recovering.is_self && recovering.is_peer) {
    if (v.action == connect_action::established)
      return refuse("both sides crashed while primary: choose the side whose data to discard",
                    true);
    return {v.action, true, false, v.reason + "; both sides recover from a crash: every region"};
  }
  if (v.action == connect_action::resync_target && recovering.is_self)
    return {v.action, v.is_full, false,
            v.reason + "; this side recovers from a crash: the peer also sends its extents"};
  if (v.action == connect_action::resync_source && recovering.is_peer)
    return {v.action, v.is_full, false,
            v.reason + "; the peer recovers from a crash: its extents are sent too"};
  if (v.action != connect_action::established)
    return v;
  if (recovering.is_self)
    return peer.is_primary
               ? connect_verdict{connect_action::resync_target, false, false,
                                 "this side crashed while primary and the peer is primary now: "
                                 "receiving the extents it may have written"}
               : connect_verdict{connect_action::resync_source, false, false,
                                 "this side crashed while primary: sending the extents it may "
                                 "have written"};
  return self.role == volume_role::primary
             ? connect_verdict{connect_action::resync_source, false, false,
                               "the peer crashed while primary and this side is primary now: "
                               "sending the extents it may have written"}
             : connect_verdict{connect_action::resync_target, false, false,
                               "the peer crashed while primary: receiving the extents it may "
                               "have written"};
}

}  // namespace

repl::hello hello_of(const std::string& volume, const volume_meta& meta) {
  repl::hello h;
  h.volume = volume;
  h.size_bytes = meta.size_bytes;
  h.region_bytes = meta.region_bytes;
  h.is_primary = meta.role == volume_role::primary;
  h.is_consistent = meta.is_consistent;
  h.gens = meta.gens;
  return h;
}

connect_verdict on_peer_hello(const std::string& volume, const volume_meta& self,
                              const repl::hello& peer, crash_recovery recovering) {
  return after_crash(decide(volume, self, peer), self, peer, recovering);
}

status can_promote(const volume_meta& self, const role_request& request) {
  if (self.role == volume_role::primary)
    return ok_status();
  if (request.is_resync_target || !self.is_consistent)
    return make_error(errc::conflict,
                      "this side's data is inconsistent until its resync finishes; promote the "
                      "other side");
  if (request.is_connected && request.is_peer_primary && !request.allow_two_primaries)
    return make_error(errc::conflict,
                      "the peer is primary and connected; demote it first (two primaries only "
                      "during a live migration's hand-over)");
  return ok_status();
}

}  // namespace vcube::esan

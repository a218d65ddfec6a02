// host-device: a node device moved into the pod under the link's name, and moved back on DEL as it was (its
// name, alias, MTU, MAC and up state). What CNI's host-device plugin does, plus what it forgets: the device's
// own alias and up state come back too, and a device the kernel returned to the node when the pod's namespace
// went away (a physical one; virtual ones die with the namespace) is renamed back in place.
#pragma once

#include <string>
#include <vector>

#include "topo/model/link.h"

namespace topo {

class Kernel;
class KernelContext;

// ADD's planning step: fills in each host-device's `origin` — kept from `journaled` (an earlier ADD's record,
// when the device may already be in the pod), else read from the node. Refuses (ConflictError) a device the
// node does not have, one topocni created, and the interface of the node's default route (moving it would cut
// the node off). Nothing changes on the node.
void take_host_device_origins(Kernel& kernel, std::vector<Link>& desired, const std::vector<Link>& journaled);

// The kind unit's kernel I/O for host-devices (called by link_kernel.cpp). Observe: the moved device in the
// pod, or stranded in the node's namespace (Link::stranded). Create: move it in under its pod name with our
// mark, then configure it. Delete: move it back (or rename it in place, when stranded) as it was.
void observe_host_device(KernelContext& k, const Link& want, std::vector<Link>& out);
void move_in(KernelContext& k, const Link& l);
void move_out(KernelContext& k, const Link& l);

}  // namespace topo

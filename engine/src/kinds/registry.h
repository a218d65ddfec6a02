// Every kind's unit, for the generic code that iterates AllKinds (topo/model/kinds.h) and calls KindOps<K>.
#pragma once

#include "kinds/address/address_ops.h"
#include "kinds/link/link_ops.h"
#include "kinds/nat/nat_ops.h"
#include "kinds/neighbour/neighbour_ops.h"
#include "kinds/route/route_ops.h"
#include "kinds/rule/rule_ops.h"
#include "kinds/sysctl/sysctl_ops.h"
#include "topo/model/kinds.h"

// The topoctl subcommands, one file each: every add_* registers its options on `app` and returns how to run it.
#pragma once

#include "common.h"

namespace topo::cli {

Command add_templates(CLI::App& app);  // cmd_templates.cpp
Command add_render(CLI::App& app);     // cmd_render.cpp
Command add_validate(CLI::App& app);   // cmd_validate.cpp
Command add_plan(CLI::App& app);       // cmd_plan.cpp
Command add_apply(CLI::App& app);      // cmd_apply.cpp
Command add_destroy(CLI::App& app);    // cmd_apply.cpp
Command add_show(CLI::App& app);       // cmd_show.cpp
Command add_doctor(CLI::App& app);     // cmd_doctor.cpp

}  // namespace topo::cli

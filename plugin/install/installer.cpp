// The install and uninstall steps. Order matters to a runtime starting pods meanwhile: install writes the
// binary, then its names, then templates, and the conflist last, so a config never names a plugin or
// template that is not there yet; uninstall goes the other way round.
#include "install/installer.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

#include "install/atomic_file.h"
#include "install/conflist_edit.h"
#include "install/install_error.h"
#include "topo/error.h"
#include "topo/template/template.h"

namespace topo::install {

namespace {

namespace fs = std::filesystem;

constexpr const char* kBinary = "topocni";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InstallError(fmt::format("cannot read {}", path.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void require_dir(const std::string& dir, const char* flag) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InstallError(fmt::format("{} {}: no such directory", flag, dir));
}

// A name in the CNI bin dir: a plain file name a conflist's "type" can hold.
void check_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.starts_with('.')) {
    throw InstallError(fmt::format("--names: \"{}\" is not a plugin file name", name));
  }
  if (name == kBinary) throw InstallError("--names: topocni is always installed; list only the other names");
}

// The served names are symlinks to `topocni` in the same directory, not copies: an upgrade replaces one file
// and every name runs the new version from that instant on (copies would be replaced one by one, mixing
// versions across a pod's ADD and DEL), and the node holds one binary, not one per name. The link is
// relative, so it stays right when the directory is seen through a hostPath mount at another path.
bool is_our_link(const fs::path& path) {
  std::error_code ec;
  return fs::is_symlink(fs::symlink_status(path, ec)) && fs::read_symlink(path, ec) == kBinary;
}

// A user template: NAME.yaml that loads (syntax, keys, parameters; its `name:` is NAME). The directories
// searched for what it extends are its own and the templates dir.
std::string checked_template(const std::string& file, const std::string& templates_dir) {
  fs::path p(file);
  if (p.extension() != ".yaml")
    throw InstallError(fmt::format("--template {}: a template file is NAME.yaml", file));
  std::string text = read_file(p);
  try {
    TemplateLibrary library({p.parent_path().empty() ? "." : p.parent_path().string(), templates_dir});
    Template::load({p.stem().string(), file, text, false}, &library);
  } catch (const SpecError& e) {
    throw InstallError(fmt::format("--template {}: {}", file, e.what()));
  }
  return text;
}

}  // namespace

void install(const InstallOptions& o, std::ostream& out) {
  // Check everything first.
  require_dir(o.cni_bin_dir, "--cni-bin-dir");
  std::set<std::string> names;
  for (const auto& n : o.names) {
    if (n.empty()) continue;  // --names '' installs no other name
    check_name(n);
    names.insert(n);
  }
  std::vector<std::pair<fs::path, std::string>> templates;
  if (!o.templates.empty()) {
    fs::path parent = fs::path(o.templates_dir).parent_path();
    std::error_code ec;
    if (!fs::is_directory(o.templates_dir, ec) && !fs::is_directory(parent.empty() ? "." : parent, ec)) {
      throw InstallError(
          fmt::format("--templates-dir {}: neither it nor its parent directory exists", o.templates_dir));
    }
    for (const auto& t : o.templates) {
      templates.emplace_back(fs::path(o.templates_dir) / fs::path(t).filename(),
                             checked_template(t, o.templates_dir));
    }
  }
  std::optional<std::string> edited;  // the conflist's new text
  if (!o.conflist.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(o.conflist, ec))
      throw InstallError(fmt::format("--conflist {}: no such file", o.conflist));
    auto doc = parse_conflist(read_file(o.conflist), o.conflist);
    edited = render_conflist(insert_after(std::move(doc), o.after, parse_entry(o.entry, "--entry")));
  }
  std::optional<std::string> written;  // the whole conflist of --write-conflist
  if (!o.write_conflist.empty()) {
    written = render_conflist(parse_conflist(o.conflist_json, "--conflist-json"));
    fs::path parent = fs::path(o.write_conflist).parent_path();
    require_dir(parent.empty() ? "." : parent.string(), "--write-conflist: the directory of");
  }

  // Then write, in the order a running runtime can live with.
  fs::path bin = fs::path(o.cni_bin_dir) / kBinary;
  remove_stale_temporaries(o.cni_bin_dir);
  copy_file_atomically(o.self_exe, bin, 0755);
  out << "installed " << bin.string() << "\n";
  for (const auto& n : names) {
    fs::path link = fs::path(o.cni_bin_dir) / n;
    std::error_code ec;
    bool replaced = fs::exists(fs::symlink_status(link, ec)) && !is_our_link(link);
    symlink_atomically(kBinary, link);
    out << "installed " << link.string() << " -> " << kBinary
        << (replaced ? " (replaced a file of that name)" : "") << "\n";
  }
  if (!templates.empty()) {
    std::error_code ec;
    if (!fs::is_directory(o.templates_dir, ec) && ::mkdir(o.templates_dir.c_str(), 0755) != 0) {
      throw InstallError(fmt::format("mkdir {}: {}", o.templates_dir, std::strerror(errno)));
    }
    remove_stale_temporaries(o.templates_dir);
    for (const auto& [path, text] : templates) {
      write_file_atomically(path, text, 0644);
      out << "installed " << path.string() << "\n";
    }
  }
  if (edited) {
    struct stat st {};
    mode_t mode = ::stat(o.conflist.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
    write_file_atomically(o.conflist, *edited, mode);
    out << "updated " << o.conflist << ": a \"" << o.after << "\" plugin is followed by the entry of type "
        << parse_entry(o.entry, "--entry")["type"].get<std::string>() << "\n";
  }
  if (written) {
    write_file_atomically(o.write_conflist, *written, 0644);
    out << "wrote " << o.write_conflist << "\n";
  }
}

void uninstall(const UninstallOptions& o, std::ostream& out) {
  require_dir(o.cni_bin_dir, "--cni-bin-dir");
  for (const auto& n : o.names) {
    if (!n.empty()) check_name(n);
  }
  std::vector<fs::path> templates;
  for (const auto& t : o.templates) {
    std::string name = fs::path(t).extension() == ".yaml" ? fs::path(t).stem().string() : t;
    if (name.empty() || name.find('/') != std::string::npos || name.starts_with('.')) {
      throw InstallError(fmt::format("--template {}: give a template's name, as installed", t));
    }
    templates.push_back(fs::path(o.templates_dir) / (name + ".yaml"));
  }
  std::optional<Removal> removal;
  if (!o.conflist.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(o.conflist, ec))
      throw InstallError(fmt::format("--conflist {}: no such file", o.conflist));
    removal = remove_type(parse_conflist(read_file(o.conflist), o.conflist), o.type);
  }

  if (removal && removal->removed > 0) {
    struct stat st {};
    mode_t mode = ::stat(o.conflist.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
    write_file_atomically(o.conflist, render_conflist(removal->conflist), mode);
    out << "updated " << o.conflist << ": removed " << removal->removed << " plugin(s) of type " << o.type
        << "\n";
  } else if (removal) {
    out << o.conflist << ": no plugin of type " << o.type << ", unchanged\n";
  }
  for (const auto& path : templates) {
    if (remove_synced(path)) out << "removed " << path.string() << "\n";
  }
  // The templates dir is topocni's own (its name says so): once empty, it goes too.
  std::error_code ec;
  if (!templates.empty() && fs::is_directory(o.templates_dir, ec) && fs::is_empty(o.templates_dir, ec)) {
    fs::remove(o.templates_dir, ec);
    if (!ec) out << "removed " << o.templates_dir << "\n";
  }
  for (const auto& n : o.names) {
    if (n.empty()) continue;
    fs::path link = fs::path(o.cni_bin_dir) / n;
    if (is_our_link(link)) {
      remove_synced(link);
      out << "removed " << link.string() << "\n";
    } else if (fs::exists(fs::symlink_status(link, ec))) {
      out << "kept " << link.string() << ": not a link to " << kBinary << ", so not ours\n";
    }
  }
  // Another name still linking to topocni (installed with --names we were not given now) keeps it.
  std::vector<std::string> users;
  for (const auto& e : fs::directory_iterator(o.cni_bin_dir, ec)) {
    if (is_our_link(e.path())) users.push_back(e.path().filename().string());
  }
  fs::path bin = fs::path(o.cni_bin_dir) / kBinary;
  if (!users.empty()) {
    out << "kept " << bin.string() << ": still served as " << fmt::format("{}", fmt::join(users, ", "))
        << "\n";
  } else if (remove_synced(bin)) {
    out << "removed " << bin.string() << "\n";
  }
}

}  // namespace topo::install

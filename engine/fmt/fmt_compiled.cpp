// fmt's compiled part, built once (topo::fmt with TOPO_STATIC_DEPS, see cmake/static_deps.cmake).
//
// Debian ships fmt as a shared library or header-only, no archive. Header-only (FMT_HEADER_ONLY) would put
// fmt's implementation into every translation unit, a third more compile time each; instead this file
// compiles it once: format-inl.h defines the non-template functions format.h declares, and the explicit
// instantiations below are the templates format.h declares without a definition (its "extern template"s and
// the members of locale_ref and buffer). A missing one shows up as an undefined symbol at link time.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;

template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto thousands_sep_impl<wchar_t>(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;

template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void buffer<wchar_t>::append(const wchar_t*, const wchar_t*);

}  // namespace detail
FMT_END_NAMESPACE

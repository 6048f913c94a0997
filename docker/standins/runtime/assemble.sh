#!/bin/sh
# Copies what a dynamically linked Rust binary needs at run time into $1, laid out like
# distroless/cc: the shared libraries of libc6 and libgcc-s1 (no gconv modules, no binaries),
# the CA bundle, zoneinfo, /etc/services and friends, and root and nonroot accounts.
set -eu
out="$1"
arch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
mkdir -p "$out/usr/lib/$arch" "$out/usr/lib64" "$out/usr/share" "$out/etc/ssl/certs" \
  "$out/home/nonroot" "$out/root" "$out/tmp" "$out/var"
ln -s usr/lib "$out/lib"
ln -s usr/lib64 "$out/lib64"
ln -s usr/bin "$out/bin"
mkdir -p "$out/usr/bin"
for pkg in libc6 libgcc-s1; do
  # Not the malloc-debugging and profiling preloads, which nothing in an image preloads,
  # nor libmvec, which only C built with vectorised math links (a Rust binary does not).
  dpkg -L "$pkg" | grep -E '\.so(\.[0-9]+)*$' | grep -Ev '/gconv/|libc_malloc_debug|libmemusage|libpcprofile|libmvec' |
  while read -r f; do
    [ -e "$f" ] || continue
    dest="$out$(dirname "$f")"
    mkdir -p "$dest"
    cp -a "$f" "$dest/"
  done
done
# The loader's own path, /lib64/ld-linux-x86-64.so.2, resolves through the usr/lib64 link.
[ -e "/usr/lib64/ld-linux-x86-64.so.2" ] && cp -a /usr/lib64/ld-linux-x86-64.so.2 "$out/usr/lib64/"
cp -L /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
cp -a /usr/share/zoneinfo "$out/usr/share/"
# The leap-second "right/" zones are a second copy of the database that no one reads by
# default (Debian moved them to tzdata-legacy after bookworm); 1.9 MB of the 60 MB budget.
rm -rf "$out/usr/share/zoneinfo/right"
cp /etc/services /etc/protocols /etc/ethertypes "$out/etc/" 2>/dev/null || cp /etc/services /etc/protocols "$out/etc/"
cat > "$out/etc/passwd" <<'PW'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PW
cat > "$out/etc/group" <<'GR'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
GR
printf 'hosts: files dns\n' > "$out/etc/nsswitch.conf"
cp /etc/os-release "$out/etc/os-release"
chmod 1777 "$out/tmp"
chmod 0755 "$out/home/nonroot"
chmod 0700 "$out/root"

// Why the kernel refuses a user namespace to a user other than root, and what changes it. Each
// errno of clone(CLONE_NEWUSER)/unshare is one setting (user_namespaces(7), clone(2)).
export function userNamespaceHint(errno: string, euid: number): string | undefined {
  if (euid === 0) return undefined;
  switch (errno) {
    case 'EPERM':
    case 'EACCES':
      return `a user namespace is refused to uid ${euid}: unprivileged user namespaces are disabled on this host (Debian's kernel.unprivileged_userns_clone=0, Ubuntu's AppArmor kernel.apparmor_restrict_unprivileged_userns=1, or a seccomp filter around tsrun); as root: sysctl -w kernel.unprivileged_userns_clone=1 (or the AppArmor setting =0), or run tsrun as root`;
    case 'ENOSPC':
      return `a user namespace is refused to uid ${euid}: the limit of user namespaces is reached (user.max_user_namespaces, 0 disables them); as root: sysctl -w user.max_user_namespaces=15000`;
    case 'EUSERS':
      return `a user namespace is refused to uid ${euid}: user namespaces are nested 32 deep already`;
    default:
      return undefined;
  }
}

// Captured /proc samples. HYBRID and the THIS_HOST_* strings were captured on the development hosts
// (Debian 12 userland, Linux 6.18, 2026-11-23); the others were written by hand in the same format
// to stand for a pure-v2 systemd host, a pure-v1 host and an unprivileged user.

/** This host: v1 controllers under /sys/fs/cgroup/<name>, cgroup2 at /sys/fs/cgroup/unified with only hugetlb. */
export const MOUNTINFO_HYBRID = `22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334432k,nr_inodes=3083608,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683656k
26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
export const HYBRID_V2_CONTROLLERS = 'hugetlb\n';

/** A pure-v2 systemd host: shared:N propagation fields, cgroup2 straight at /sys/fs/cgroup. */
export const MOUNTINFO_V2 = `21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
22 26 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
23 26 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8029456k,nr_inodes=2007364,mode=755,inode64
24 23 0:22 / /dev/pts rw,nosuid,noexec,relatime shared:3 - devpts devpts rw,gid=5,mode=620,ptmxmode=000
26 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
29 21 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
30 21 0:27 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore rw
45 26 0:39 / /run/user/1000 rw,nosuid,nodev,relatime shared:250 - tmpfs tmpfs rw,size=1607288k,nr_inodes=401822,mode=700,uid=1000,gid=1000,inode64
`;
export const V2_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc\n';

/** A pure-v1 host of the systemd-219 era: co-mounted cpu,cpuacct and net_cls,net_prio, no cgroup2. */
export const MOUNTINFO_V1 = `17 39 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
18 39 0:3 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
21 18 0:18 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
22 21 0:19 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
25 21 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
26 21 0:23 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory
27 21 0:24 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_cls,net_prio
28 21 0:25 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,pids
29 21 0:26 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,blkio
39 0 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/centos-root rw,attr2,inode64,noquota
`;

/** systemd's own "hybrid": only the named systemd hierarchy is v1, every controller is in cgroup2. */
export const MOUNTINFO_SYSTEMD_HYBRID = `25 21 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,xattr,name=systemd
`;

/** A container's view with the cgroup tree bind-mounted twice: a subtree first, the real root second. */
export const MOUNTINFO_V2_BIND_FIRST = `101 100 0:26 /user.slice /mnt/cg rw,relatime - cgroup2 cgroup2 rw
102 100 0:26 / /run/my\\040cgroups rw,relatime - cgroup2 cgroup2 rw
`;

export const MOUNTINFO_NO_CGROUPS = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
`;

/** This host, as root: everything but CAP_SYS_RESOURCE (bit 24), no seccomp filter. */
export const STATUS_THIS_HOST = `Name:\tcat
Umask:\t0022
State:\tR (running)
Uid:\t0\t0\t0\t0
Gid:\t0\t0\t0\t0
CapInh:\t0000000000000000
CapPrm:\t000001fffeffffff
CapEff:\t000001fffeffffff
CapBnd:\t000001fffeffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t0
Seccomp:\t0
Seccomp_filters:\t0
`;

/** Root with every capability of a 41-capability kernel. */
export const STATUS_FULL_ROOT = STATUS_THIS_HOST.replace(/fffeffffff/g, 'ffffffffff');

/** An ordinary user: no capabilities, full bounding set. */
export const STATUS_USER = STATUS_FULL_ROOT
  .replace('Uid:\t0\t0\t0\t0', 'Uid:\t1000\t1000\t1000\t1000')
  .replace(/CapPrm:\t\w+/, 'CapPrm:\t0000000000000000')
  .replace(/CapEff:\t\w+/, 'CapEff:\t0000000000000000');

/** Root in a Docker-style container: the default 14 capabilities and a seccomp filter already applied. */
export const STATUS_DOCKER_ROOT = `Name:\tsh
CapInh:\t0000000000000000
CapPrm:\t00000000a80425fb
CapEff:\t00000000a80425fb
CapBnd:\t00000000a80425fb
CapAmb:\t0000000000000000
NoNewPrivs:\t0
Seccomp:\t2
Seccomp_filters:\t1
`;

/** A kernel built without CONFIG_SECCOMP has no Seccomp lines at all. */
export const STATUS_NO_SECCOMP = STATUS_FULL_ROOT.replace(/Seccomp.*\n/g, '');

export const THIS_HOST_FILESYSTEMS = `nodev\tsysfs
nodev\ttmpfs
nodev\tproc
nodev\tcgroup
nodev\tcgroup2
nodev\tdevtmpfs
nodev\tdevpts
\text4
nodev\toverlay
\txfs
nodev\tmqueue
`;
export const FILESYSTEMS_NO_OVERLAY = THIS_HOST_FILESYSTEMS.replace('nodev\toverlay\n', '');

export const THIS_HOST_NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts'];
export const THIS_HOST_SECCOMP_ACTIONS = 'kill_process kill_thread trap errno user_notif trace log allow\n';
export const INITIAL_UID_MAP = '         0          0 4294967295\n';
export const ROOTLESS_UID_MAP = '         0       1000          1\n';

/** This host's /proc/cgroups: hierarchy 0 = not bound to v1, so usable by cgroup2 (hugetlb here). */
export const THIS_HOST_PROC_CGROUPS = `#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t3\t1\t1
cpu\t1\t1\t1
cpuacct\t2\t1\t1
blkio\t7\t1\t1
memory\t4\t14\t1
devices\t5\t1\t1
freezer\t6\t1\t1
net_cls\t0\t1\t1
perf_event\t0\t1\t1
net_prio\t0\t1\t1
hugetlb\t0\t1\t1
pids\t8\t1\t1
`;

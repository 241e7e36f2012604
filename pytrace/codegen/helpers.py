"""BPF helper function ids (keep in sync with uapi linux/bpf.h,
`___BPF_FUNC_MAPPER`). The code calls a helper through its id cast to a
function pointer, which the BPF backend turns into `call ID`."""

MAP_LOOKUP_ELEM = 1
MAP_UPDATE_ELEM = 2
MAP_DELETE_ELEM = 3
PROBE_READ = 4
TRACE_PRINTK = 6
OVERRIDE_RETURN = 58
KTIME_GET_NS = 5
GET_PRANDOM_U32 = 7
TAIL_CALL = 12
GET_SMP_PROCESSOR_ID = 8
GET_CURRENT_PID_TGID = 14
GET_CURRENT_UID_GID = 15
GET_CURRENT_COMM = 16
GET_CURRENT_TASK = 35
PROBE_READ_STR = 45
PROBE_READ_USER_STR = 114
PROBE_READ_KERNEL = 113
PROBE_READ_USER = 112
GET_ATTACH_COOKIE = 174
GET_STACK = 67
PROBE_READ_KERNEL_STR = 115
RINGBUF_OUTPUT = 130
RINGBUF_RESERVE = 131
RINGBUF_SUBMIT = 132

GET_NUMA_NODE_ID = 42
GET_CURRENT_CGROUP_ID = 80
JIFFIES64 = 118
SEND_SIGNAL = 109
KTIME_GET_BOOT_NS = 125
KTIME_GET_TAI_NS = 208

# Flags of get_stack.
BPF_F_USER_STACK = 1 << 8

# Flags of ringbuf_output.
BPF_RB_FORCE_WAKEUP = 1 << 1

# Flags of map_update_elem.
BPF_ANY = 0
BPF_NOEXIST = 1

# Helpers added since the first list (ids from ___BPF_FUNC_MAPPER).
FOR_EACH_MAP_ELEM = 164
MAP_LOOKUP_PERCPU_ELEM = 195

# errno values the code compares helper results with (as -errno).
EEXIST = 17

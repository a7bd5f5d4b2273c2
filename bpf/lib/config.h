/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Load-time settings. sl_cfg must stay the only variable in .rodata: the
 * loader writes encodeConfig() bytes at offset 0 of .rodata before load, and
 * property-tests/datapath checks the object's BTF for exactly that. So no
 * other const global, no string literal (bpf_printk) and no constant struct
 * initializer that clang could turn into a .rodata copy. */
#ifndef SLUICE_LIB_CONFIG_H
#define SLUICE_LIB_CONFIG_H

#include "common.h"

/* const volatile: the verifier sees the loader's values as constants (and
 * prunes what they disable); volatile keeps clang from folding the zeros. */
const volatile struct sl_config sl_cfg = {};

static __always_inline bool cfg_is_dsr(void)
{
	return sl_cfg.flags & SL_CFG_DSR;
}

/* Forwarding past the stack for everything it may take (lib/fwd.h). */
static __always_inline bool cfg_is_fast_path(void)
{
	return !(sl_cfg.flags & SL_CFG_NO_FAST_PATH);
}

#endif /* SLUICE_LIB_CONFIG_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * DOC: kml_slow — a module whose init takes a while, for duplicate-load storms.
 *
 * Its init sleeps `msecs` milliseconds and then succeeds, so every concurrent load of the same
 * module arrives while the first one is still COMING: the window in which the kernel's same-name
 * check (or, from v6.5, idempotent finit_module) decides what the duplicates get back.
 */
#include <linux/delay.h>
#include <linux/module.h>

static unsigned int msecs = 1000;
module_param(msecs, uint, 0444);
MODULE_PARM_DESC(msecs, "how long init sleeps (ms)");

static int __init kml_slow_init(void)
{
	msleep(msecs);
	pr_info("kml_slow: init done after %u ms\n", msecs);
	return 0;
}

static void __exit kml_slow_exit(void)
{
}

module_init(kml_slow_init);
module_exit(kml_slow_exit);
MODULE_DESCRIPTION("kmodlab test module: init sleeps msecs ms, then succeeds");
MODULE_LICENSE("GPL");

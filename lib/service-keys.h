/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ids of the ks_service_keys[] entries, shared by service.c and service-validate.c only. */
#pragma once

#include "service.h"

/* In the order of ks_service_keys[], which is the order the man page documents the keys in. */
typedef enum key_id {
        K_VERSION,
        K_DESCRIPTION,
        K_EXEC,
        K_WORKING_DIRECTORY,
        K_USER,
        K_GROUP,
        K_TYPE,
        K_START_TIMEOUT,
        K_STOP_TIMEOUT,
        K_KILL_SIGNAL,
        K_RELOAD_SIGNAL,
        K_ENVIRONMENT_FILE,
        K_ENVIRONMENT,
        K_RESTART,
        K_RESTART_DELAY,
        K_RESTART_MAX_DELAY,
        K_RESTART_STEPS,
        K_MAX_RESTARTS,
        K_RESTART_WINDOW,
        K_ON_GIVE_UP,
        K_AFTER,
        K_BEFORE,
        K_REQUIRES,
        K_WANTS,
        K_PART_OF,
        K_ENABLED,
        K_WANTED_BY,
        K_RELOAD_ON_CHANGE,
        K_HEALTH,
        K_HEALTH_INTERVAL,
        K_HEALTH_TIMEOUT,
        K_HEALTH_START_PERIOD,
        K_HEALTH_FAILURE_THRESHOLD,
        K_HEALTH_SUCCESS_THRESHOLD,
        K_HEALTH_READY_ON_PASS,
        K_HEALTH_WATCHDOG,
        K_HEALTH_FLAP_LOW_THRESHOLD,
        K_HEALTH_FLAP_HIGH_THRESHOLD,
        K_HEALTH_SCORE_HALF_LIFE,
        K_HEALTH_CHECK,
        K_CHECK_TYPE,
        K_CHECK_URL,
        K_CHECK_METHOD,
        K_CHECK_EXPECT_STATUS,
        K_CHECK_EXPECT_BODY,
        K_CHECK_HEADERS,
        K_CHECK_TLS_VERIFY,
        K_CHECK_FOLLOW_REDIRECTS,
        K_CHECK_MAX_RESPONSE_BYTES,
        K_CHECK_HOST,
        K_CHECK_PORT,
        K_RESOURCES,
        K_MEMORY_MAX,
        K_MEMORY_HIGH,
        K_CPU_QUOTA,
        K_TASKS_MAX,
        K_IO_WEIGHT,
        K_NICE,
        K_SANDBOX,
        K_SANDBOX_PRESET,
        K_SANDBOX_FIRST, /* then one key per ks_sandbox_setting, in that order */
        _K_MAX = K_SANDBOX_FIRST + _KS_SANDBOX_SETTING_MAX,
} key_id;

/* Whether a file set key id (ks_service.key_origin records where). */
static inline bool key_set(const ks_service *s, key_id id) {
        return s->key_origin[id].file != NULL;
}

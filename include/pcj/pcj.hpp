/// @file
/// Umbrella header: everything an application needs from pcj.
#pragma once

#include "pcj/component.hpp"
#include "pcj/config.hpp"
#include "pcj/config_file.hpp"
#include "pcj/disco.hpp"
#include "pcj/error.hpp"
#include "pcj/event_queue.hpp"
#include "pcj/events.hpp"
#include "pcj/extension.hpp"
#include "pcj/log.hpp"
#include "pcj/node.hpp"
#include "pcj/payload.hpp"
#include "pcj/ping.hpp"
#include "pcj/pubsub.hpp"
#include "pcj/route.hpp"
#include "pcj/session.hpp"
#include "pcj/version.hpp"

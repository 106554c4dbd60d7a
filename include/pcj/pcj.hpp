// Umbrella header: everything an application needs from pcj.
#pragma once

#include "pcj/component.hpp"
#include "pcj/config.hpp"
#include "pcj/error.hpp"
#include "pcj/events.hpp"
#include "pcj/log.hpp"
#include "pcj/node.hpp"
#include "pcj/pubsub.hpp"
#include "pcj/route.hpp"
#include "pcj/version.hpp"

//! Container logs: believable lines derived from each container's state and
//! the clock, so that nothing is generated until somebody reads it.

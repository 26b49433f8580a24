//! Kernel FIB sync over rtnetlink.

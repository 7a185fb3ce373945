int mmusim_hw_placeholder;

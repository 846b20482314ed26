# The paper's search settings, shared by every search config: the space of
# trees, aging evolution (20 random individuals, 5% tournaments, the newest
# 2500 kept) and the loss-rejection protocol (B = 5 samples, eta = 0.6;
# S = 100 Adam steps at lr 0.1 is ours). A branch base (seg_branch.py,
# rcnn_branches.py, heatmap_branch.py) adds the target and the branches.
search = dict(
    space=dict(max_nodes=31, max_depth=8, init_depth=3),
    evolution=dict(population=20, tournament=0.05, window=2500),
    rejection=dict(samples=5, eta=0.6, steps=100, lr=0.1),
    executor=dict(type='local'),
    top_k=5,
    seed=0)
